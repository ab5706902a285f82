"""Demo grading: the most used presets switched on and evaluated on the demo customers."""

from __future__ import annotations

from guanxi.customers.models import Customer
from guanxi.grading.models import EvaluationRun, Scheme
from guanxi.grading.services import evaluation_run, follow_ups_plan, preset_install

DEMO_PRESETS = ("value-tier", "credit-rating", "rfm", "abc", "lifecycle", "wealth-tier")


def load(*, force: bool = False) -> list[str]:
    if Scheme.objects.filter(code="value-tier").exists():
        return ["Demo grading already present."]
    if not Customer.objects.exists():
        return ["No customers: demo grading skipped."]
    lines = []
    for code in DEMO_PRESETS:
        scheme = preset_install(actor=None, code=code)
        Scheme.objects.filter(pk=scheme.pk).update(schedule="daily")
        run = evaluation_run(run_id=EvaluationRun.objects.create(scheme=scheme).pk)
        lines.append(f"Grading: {scheme.name_en} evaluated, {run.evaluated} customers graded.")
    lines.append(f"Follow-ups opened: {follow_ups_plan()}.")
    return lines
