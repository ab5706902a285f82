"""Seed the default pipeline with its stages and the usual won/lost reasons (both languages)."""

from typing import Any

from django.db import migrations

STAGES = [
    # name, Chinese name, win probability, fields required to enter
    ("Qualification", "初步接洽", 10, []),
    ("Needs analysis", "需求确认", 25, ["contact"]),
    ("Proposal", "方案报价", 50, ["contact", "amount"]),
    ("Negotiation", "商务谈判", 75, ["contact", "amount", "expected_close"]),
    ("Contract", "签约", 90, ["contact", "amount", "expected_close", "next_step"]),
]

REASONS = [
    ("won", "Best value", "性价比高"),
    ("won", "Relationship", "客户关系"),
    ("won", "Product fit", "产品契合"),
    ("lost", "Price", "价格因素"),
    ("lost", "Lost to competitor", "输给竞争对手"),
    ("lost", "No budget", "无预算"),
    ("lost", "No decision", "客户未决策"),
    ("lost", "Product gap", "产品不满足需求"),
]


def seed(apps: Any, schema_editor: Any) -> None:
    Pipeline = apps.get_model("sales", "Pipeline")
    Stage = apps.get_model("sales", "Stage")
    CloseReason = apps.get_model("sales", "CloseReason")
    if not Pipeline.objects.filter(is_default=True).exists():
        pipeline = Pipeline.objects.create(name="Sales", name_zh="销售流程", is_default=True)
        Stage.objects.bulk_create(
            Stage(
                pipeline=pipeline,
                name=name,
                name_zh=name_zh,
                probability=probability,
                required_fields=required,
                order=index,
            )
            for index, (name, name_zh, probability, required) in enumerate(STAGES, start=1)
        )
    if not CloseReason.objects.exists():
        CloseReason.objects.bulk_create(
            CloseReason(kind=kind, name=name, name_zh=name_zh, order=index)
            for index, (kind, name, name_zh) in enumerate(REASONS, start=1)
        )


def unseed(apps: Any, schema_editor: Any) -> None:
    apps.get_model("sales", "Pipeline").objects.filter(is_default=True, name="Sales").delete()


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
