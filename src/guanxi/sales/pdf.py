"""The printable quote as PDF (reportlab), in English or Chinese.

Chinese text uses reportlab's built-in CID font STSong-Light, so no font file ships with the
app; Latin text in that font is acceptable for a quote.
"""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

from django.utils import translation
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT = "STSong-Light"


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _plan_table(plan: Any, font: str) -> Table:
    """The payment plan: each instalment's due date, amount, paid, outstanding and state."""
    rows: list[list[Any]] = [
        ["#", _("Due on"), _("Amount"), _("Paid"), _("Outstanding"), _("Status")]
    ]
    rows += [
        [
            str(row.sequence),
            row.due_on.isoformat(),
            f"{row.amount:,.2f}",
            f"{row.paid:,.2f}",
            f"{row.outstanding:,.2f}",
            str(row.state.label),
        ]
        for row in plan.rows
    ]
    rows.append(
        ["", _("Total"), f"{plan.amount:,.2f}", f"{plan.paid:,.2f}", f"{plan.outstanding:,.2f}", ""]
    )
    table = Table(rows, colWidths=[10 * mm, 28 * mm, 30 * mm, 30 * mm, 30 * mm, 44 * mm])
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), font),
                ("FONTSIZE", (0, 0), (-1, -1), 9),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9ecef")),
                ("ALIGN", (2, 0), (4, -1), "RIGHT"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.grey),
                ("LINEABOVE", (0, -1), (-1, -1), 0.5, colors.grey),
            ]
        )
    )
    return table


def quote_pdf(*, quote: Any, lines: list[Any], language: str, plan: Any = None) -> bytes:
    """The quote's header, lines and totals on A4, then the payment plan with what is paid
    and outstanding per instalment when there is one; labels in `language` ("en" or
    "zh-hans")."""
    font = _font()
    body = ParagraphStyle("body", fontName=font, fontSize=10, leading=14)
    title = ParagraphStyle("title", parent=body, fontSize=18, leading=24)
    buffer = io.BytesIO()
    with translation.override(language):
        document = SimpleDocTemplate(
            buffer,
            pagesize=A4,
            leftMargin=18 * mm,
            rightMargin=18 * mm,
            title=f"{_('Quote')} {quote.number}",
        )
        deal = quote.opportunity
        rows: list[list[Any]] = [
            [_("Product"), _("Quantity"), _("Unit price"), _("Discount"), _("Amount")]
        ]
        rows += [
            [
                Paragraph(escape(line.description), body),
                f"{line.quantity:,.2f}",
                f"{line.unit_price:,.2f}",
                f"{line.discount:.2f}%",
                f"{line.amount:,.2f}",
            ]
            for line in lines
        ]
        rows.append(["", "", "", _("Subtotal"), f"{quote.subtotal:,.2f}"])
        rows.append(["", "", "", _("Discount"), f"-{quote.discount_total:,.2f}"])
        rows.append(["", "", "", _("Total"), f"{quote.total:,.2f}"])
        table = Table(rows, colWidths=[70 * mm, 22 * mm, 28 * mm, 22 * mm, 30 * mm])
        table.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), font),
                    ("FONTSIZE", (0, 0), (-1, -1), 9),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9ecef")),
                    ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                    ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.grey),
                    ("LINEABOVE", (0, -3), (-1, -3), 0.5, colors.grey),
                ]
            )
        )
        story = [
            Paragraph(f"{_('Quote')} {quote.number}", title),
            Spacer(1, 4 * mm),
            Paragraph(escape(f"{_('Customer')}: {deal.customer.name}"), body),
            Paragraph(escape(f"{_('Deal')}: {deal.name}"), body),
            Paragraph(f"{_('Valid until')}: {quote.valid_until.isoformat()}", body),
            Spacer(1, 6 * mm),
            table,
        ]
        if plan is not None:
            story += [
                Spacer(1, 6 * mm),
                Paragraph(escape(_("Payment plan")), body),
                Spacer(1, 2 * mm),
                _plan_table(plan, font),
            ]
        if quote.notes:
            story += [
                Spacer(1, 6 * mm),
                Paragraph(escape(quote.notes).replace("\n", "<br/>"), body),
            ]
        document.build(story)
    return buffer.getvalue()
