"""Demo grading: the most used presets switched on and evaluated on the demo customers."""

from __future__ import annotations

from guanxi.customers.models import Customer, CustomerKind
from guanxi.grading.models import EvaluationRun, Scheme
from guanxi.grading.services import evaluation_run, follow_ups_plan, preset_install

DEMO_PRESETS = ("value-tier", "credit-rating", "rfm", "abc", "lifecycle", "wealth-tier")
# Annual profit (CNY) and its growth (%) of the demo companies, in the order they were
# created, for the operating-condition preset: one premium, one first-class, one loss-maker.
ENTERPRISE_FIGURES = [("15000000", "12"), ("2500000", "3"), ("-400000", "-8")]


def enterprise_figures() -> int:
    """Give demo companies without them the profit figures operating condition reads."""
    companies = Customer.objects.filter(kind=CustomerKind.ENTERPRISE).order_by("pk")
    updated = 0
    for company, (profit, growth) in zip(companies, ENTERPRISE_FIGURES, strict=False):
        if "annual_profit" in company.custom_fields:
            continue
        figures = {**company.custom_fields, "annual_profit": profit, "profit_growth": growth}
        updated += Customer.objects.filter(pk=company.pk).update(custom_fields=figures)
    return updated


def load(*, force: bool = False) -> list[str]:
    if Scheme.objects.filter(code="value-tier").exists():
        return ["Demo grading already present."]
    if not Customer.objects.exists():
        return ["No customers: demo grading skipped."]
    lines = [f"Grading: profit figures for {enterprise_figures()} companies."]
    for code in DEMO_PRESETS:
        scheme = preset_install(actor=None, code=code)
        Scheme.objects.filter(pk=scheme.pk).update(schedule="daily")
        run = evaluation_run(run_id=EvaluationRun.objects.create(scheme=scheme).pk)
        lines.append(f"Grading: {scheme.name_en} evaluated, {run.evaluated} customers graded.")
    lines.append(f"Follow-ups opened: {follow_ups_plan()}.")
    return lines
