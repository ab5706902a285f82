"""Commands of grading: install presets, edit schemes, evaluate, preview, override, and the
follow-through of differentiated management (follow-ups, notifications, retention)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.accounts.models import User
from guanxi.core import events
from guanxi.core.errors import Conflict, DomainError, check_version
from guanxi.core.permissions import require_perm
from guanxi.customers.models import Customer
from guanxi.grading import engine
from guanxi.grading.metrics import metrics_refresh, units_for
from guanxi.grading.models import (
    ChangeReason,
    CustomerGrade,
    EvaluationRun,
    FollowUp,
    FollowUpStatus,
    GradeChange,
    Method,
    Notification,
    RunStatus,
    Schedule,
    Scheme,
    Tier,
)
from guanxi.grading.presets import PRESETS

# Follow-up reasons are stored as codes and shown translated (see FollowUp.reason_label).
REASON_INTERVAL = "interval"
REASON_TIER_FELL = "tier_fell"

TIER_FIELDS = (
    "code",
    "name_zh",
    "name_en",
    "condition",
    "color",
    "is_fallback",
    "follow_up_days",
    "sla_class",
    "points_multiplier",
    "max_discount_percent",
    "account_manager_level",
    "preferred_channels",
    "care_actions",
)


@transaction.atomic
def preset_install(*, actor: User | None, code: str, activate: bool = True) -> Scheme:
    """Create the preset's scheme and tiers (and custom fields it reads); idempotent."""
    if actor is not None:
        require_perm(actor, "grading.admin")
    spec = PRESETS.get(code)
    if spec is None:
        raise DomainError(_("Unknown preset."), field="preset")
    existing = Scheme.objects.filter(code=code).first()
    if existing is not None:
        return existing
    for key, label_zh, label_en in spec.custom_fields:
        from guanxi.customers.models import CustomFieldDefinition

        CustomFieldDefinition.objects.get_or_create(
            target="customer",
            key=key,
            defaults={"label_zh": label_zh, "label_en": label_en, "field_type": "decimal"},
        )
    scheme = Scheme.objects.create(
        code=spec.code,
        name_zh=spec.name_zh,
        name_en=spec.name_en,
        description=str(spec.description),
        kinds=list(spec.kinds),
        method=spec.method,
        config=spec.config,
        preset=spec.code,
        is_active=activate,
        retention_ranks=spec.retention_ranks,
        is_primary=code == "value-tier" and not Scheme.objects.filter(is_primary=True).exists(),
    )
    for rank, tier in enumerate(spec.tiers, start=1):
        Tier.objects.create(
            scheme=scheme,
            rank=rank,
            code=tier.code,
            name_zh=tier.name_zh,
            name_en=tier.name_en,
            condition=tier.condition,
            color=tier.color,
            is_fallback=tier.is_fallback,
            follow_up_days=tier.follow_up_days,
            sla_class=tier.sla_class,
            points_multiplier=Decimal(tier.points_multiplier),
            max_discount_percent=Decimal(tier.max_discount_percent),
            account_manager_level=tier.account_manager_level,
            preferred_channels=list(tier.preferred_channels),
            care_actions=list(tier.care_actions),
        )
    engine.compile_scheme(scheme)
    return scheme


def _clean_tier(values: dict[str, Any], index: int) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    code = str(values.get("code") or "").strip().lower()
    if not code or not code.replace("-", "").replace("_", "").isalnum():
        raise DomainError(
            _("Tier %(n)s needs a short code (letters, digits, -).") % {"n": index},
            field=f"tiers.{index}.code",
        )
    cleaned["code"] = code[:40]
    for name in ("name_zh", "name_en"):
        text = str(values.get(name) or "").strip()
        if not text:
            raise DomainError(
                _("Tier %(n)s needs a name in both languages.") % {"n": index},
                field=f"tiers.{index}.{name}",
            )
        cleaned[name] = text[:80]
    cleaned["condition"] = str(values.get("condition") or "").strip()[:2000]
    cleaned["color"] = str(values.get("color") or "secondary")[:20]
    cleaned["is_fallback"] = bool(values.get("is_fallback"))
    days = values.get("follow_up_days")
    try:
        cleaned["follow_up_days"] = int(str(days)) if days not in (None, "") else None
    except ValueError as error:
        raise DomainError(
            _("Enter a whole number."), field=f"tiers.{index}.follow_up_days"
        ) from error
    if cleaned["follow_up_days"] is not None and not 1 <= cleaned["follow_up_days"] <= 3650:
        raise DomainError(
            _("Follow up between every 1 and 3650 days."), field=f"tiers.{index}.follow_up_days"
        )
    for name, default, high in (
        ("points_multiplier", "1", 100),
        ("max_discount_percent", "0", 100),
    ):
        try:
            number = Decimal(
                str(values.get(name) if values.get(name) not in (None, "") else default)
            )
        except InvalidOperation as error:
            raise DomainError(_("Enter a number."), field=f"tiers.{index}.{name}") from error
        if not 0 <= number <= high:
            raise DomainError(
                _("Enter a number between 0 and %(high)s.") % {"high": high},
                field=f"tiers.{index}.{name}",
            )
        cleaned[name] = number
    cleaned["sla_class"] = str(values.get("sla_class") or "")[:20]
    cleaned["account_manager_level"] = str(values.get("account_manager_level") or "")[:40]
    for name in ("preferred_channels", "care_actions"):
        raw = values.get(name) or []
        items = raw if isinstance(raw, list) else str(raw).replace("，", ",").split(",")
        cleaned[name] = [str(item).strip()[:60] for item in items if str(item).strip()][:20]
    return cleaned


@transaction.atomic
def scheme_save(
    *,
    actor: User,
    values: dict[str, Any],
    tiers: list[dict[str, Any]] | None = None,
    scheme: Scheme | None = None,
    version: int | None = None,
) -> Scheme:
    """Create or change a scheme and (when given) replace its tiers; refused if it would not
    compile (unknown metric, unreadable condition, overlapping quantiles, no tiers)."""
    require_perm(actor, "grading.admin")
    creating = scheme is None
    if scheme is None:
        scheme = Scheme()
    else:
        scheme = Scheme.objects.select_for_update().get(pk=scheme.pk)
        check_version(scheme.version, version)
        scheme.version += 1
    for name in ("code", "name_zh", "name_en", "description"):
        if name in values:
            setattr(scheme, name, str(values[name] or "").strip())
    if creating and (not scheme.code or Scheme.objects.filter(code=scheme.code).exists()):
        raise Conflict(_("Choose a code no other scheme uses."), field="code")
    if not scheme.name_zh or not scheme.name_en:
        raise DomainError(_("Name the scheme in both languages."), field="name_en")
    if "method" in values:
        if values["method"] not in Method.values:
            raise DomainError(_("Choose one of the allowed values."), field="method")
        scheme.method = values["method"]
    if "schedule" in values:
        if (values["schedule"] or "") not in Schedule.values:
            raise DomainError(_("Choose one of the allowed values."), field="schedule")
        scheme.schedule = values["schedule"] or ""
    for name in ("kinds", "config"):
        if name in values:
            setattr(scheme, name, values[name])
    for name in ("is_active", "is_primary"):
        if name in values:
            setattr(scheme, name, bool(values[name]))
    if "retention_ranks" in values:
        scheme.retention_ranks = int(values["retention_ranks"] or 0)
    scheme.save()
    if scheme.is_primary:
        Scheme.objects.exclude(pk=scheme.pk).filter(is_primary=True).update(is_primary=False)
    if tiers is not None:
        cleaned = [_clean_tier(values, index) for index, values in enumerate(tiers, start=1)]
        if not cleaned:
            raise DomainError(_("The scheme has no tiers."), field="tiers")
        codes = [tier["code"] for tier in cleaned]
        if len(set(codes)) != len(codes):
            raise DomainError(_("Two tiers share a code."), field="tiers")
        if sum(tier["is_fallback"] for tier in cleaned) > 1:
            raise DomainError(_("Only one tier can be the fallback."), field="tiers")
        existing = {tier.code: tier for tier in scheme.tiers.all()}
        keep = []
        for rank, data in enumerate(cleaned, start=1):
            tier = existing.get(data["code"]) or Tier(scheme=scheme)
            for name, value in data.items():
                setattr(tier, name, value)
            tier.rank = rank
            tier.save()
            keep.append(tier.pk)
        scheme.tiers.exclude(pk__in=keep).delete()
    engine.compile_scheme(scheme)
    events.publish_on_commit("grading.scheme_changed", scheme_id=scheme.pk, actor_id=actor.pk)
    return scheme


def evaluation_start(*, actor: User | None, scheme: Scheme, preview: bool = False) -> EvaluationRun:
    """Queue an evaluation (or a preview) of the scheme as a background job."""
    if actor is not None:
        require_perm(actor, "grading.edit" if not preview else "grading.view")
    engine.compile_scheme(scheme)
    run = EvaluationRun.objects.create(scheme=scheme, is_preview=preview, triggered_by=actor)
    from guanxi.core.tasks import enqueue
    from guanxi.grading.tasks import evaluation_run_task

    enqueue(evaluation_run_task, run_id=run.pk)
    return run


def _progress(run: EvaluationRun, step: str, progress: int) -> None:
    EvaluationRun.objects.filter(pk=run.pk).update(step=step, progress=progress)


def evaluation_run(
    *, run_id: int, refresh: bool = True, as_of: dt.date | None = None
) -> EvaluationRun:
    """Carry out a queued run: refresh metrics, stage every grade, then apply or preview."""
    run = EvaluationRun.objects.select_related("scheme").get(pk=run_id)
    if run.status in (RunStatus.COMPLETED, RunStatus.RUNNING):
        return run
    EvaluationRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING)
    scheme = run.scheme
    started, day = timezone.now(), as_of or timezone.localdate()
    try:
        compiled = engine.compile_scheme(scheme, as_of)
        if refresh:  # the kinds of figure the scheme reads
            _progress(run, "metrics", 10)
            metrics_refresh(as_of=as_of, units=units_for(compiled.reads))
        _progress(run, "grading", 50)
        by_candidates = compiled.by_candidates and not run.is_preview
        rules = engine.fingerprint(scheme) if by_candidates else ""
        builds_on_last = by_candidates and _builds_on_last(scheme, rules, day)
        since_last = (day - scheme.graded_as_of).days if scheme.graded_as_of else 1
        # Quantile cut-offs over the refreshed metrics, looked for near the last ones.
        compiled = engine.prepare(
            compiled,
            near=scheme.graded_cutoffs if builds_on_last else None,
            days=since_last if builds_on_last else 1,
        )
        with transaction.atomic():
            # Most nights, only the customers whose grade can have changed are graded.
            found = (
                engine.candidates(
                    scheme.pk,
                    compiled,
                    since=scheme.graded_since,  # type: ignore[arg-type]  # checked by _builds_on_last
                    graded_as_of=scheme.graded_as_of,  # type: ignore[arg-type]
                    as_of=day,
                    cutoffs=scheme.graded_cutoffs,
                )
                if builds_on_last
                else None
            )
            among = found is not None and found < engine.LOOKUPS_BELOW
            staged = engine.stage(
                run.pk,
                scheme.pk,
                compiled,
                changes_only=not run.is_preview,
                among_candidates=among,
            )
        _progress(run, "saving", 80)
        if run.is_preview:
            evaluated = staged
            result = {**engine.preview_matrix(run.pk, scheme.pk), **compiled.summary()}
            changed = sum(
                move["customers"] for move in result["moves"] if move["from"] != move["to"]
            )
        else:
            applied_at, summary = timezone.now(), compiled.summary()
            with transaction.atomic():
                changed = engine.apply(run.pk, scheme.pk)
                _follow_through(run, scheme)
                Scheme.objects.filter(pk=scheme.pk).update(
                    last_evaluated_at=timezone.now(),
                    graded_since=started,
                    graded_as_of=day,
                    graded_rules=rules,
                    graded_cutoffs=summary.get("cutoffs", {}),
                )
            evaluated = engine.graded(scheme.pk, applied_at)
            result = summary
            if among:
                result["candidates"] = found
    except Exception as error:  # the run records why it failed; the caller sees the status
        _discard_stage(run.pk)
        EvaluationRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED, message=str(error)[:2000], finished_at=timezone.now()
        )
        if isinstance(error, DomainError):
            run.refresh_from_db()
            return run
        raise
    EvaluationRun.objects.filter(pk=run.pk).update(
        status=RunStatus.COMPLETED,
        progress=100,
        step="done",
        evaluated=evaluated,
        changed=changed,
        result=result,
        finished_at=timezone.now(),
    )
    if not run.is_preview:
        events.publish_on_commit(
            "grading.evaluated", scheme_id=scheme.pk, run_id=run.pk, changed=changed
        )
        if changed:
            events.publish_on_commit(
                "customer.tiers_changed", scheme_id=scheme.pk, run_id=run.pk, changed=changed
            )
    run.refresh_from_db()
    return run


# Past this many days since the last evaluation, everyone is graded again.
CANDIDATES_WITHIN_DAYS = 31


def _builds_on_last(scheme: Scheme, rules: str, day: dt.date) -> bool:
    """Whether an evaluation as of `day` may stage only the candidates (engine.candidates):
    the last applied evaluation graded with the same rules, as of that day or up to a month
    before."""
    return bool(
        rules
        and scheme.graded_rules == rules
        and scheme.graded_since is not None
        and scheme.graded_as_of is not None
        and scheme.graded_as_of <= day
        and (day - scheme.graded_as_of).days <= CANDIDATES_WITHIN_DAYS
    )


def _discard_stage(run_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM grading_gradestage WHERE run_id = %s", [run_id])


def _follow_through(run: EvaluationRun, scheme: Scheme) -> None:
    """Notify owners of each tier change — but of no first tiers in the scheme's first
    evaluation: switching a scheme on would send one per customer — and open retention tasks
    for key customers who fell, set-based over the run's history rows."""
    from guanxi.grading import sql

    now = sql.timestamp(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO grading_notification (user_id, customer_id, title, body, created_at,
                change_id)
            SELECT c.owner_id, ch.customer_id, '', '', %s, ch.id
            FROM grading_gradechange ch JOIN customers_customer c ON c.id = ch.customer_id
            WHERE ch.run_id = %s AND c.owner_id IS NOT NULL
                AND (ch.from_tier_id IS NOT NULL OR %s)""",
            [now, run.pk, scheme.last_evaluated_at is not None],
        )
        if scheme.retention_ranks:
            cursor.execute(
                """INSERT INTO grading_followup (customer_id, owner_id, tier_id, kind, status,
                    due_on, reason, created_at)
                SELECT ch.customer_id, c.owner_id, ch.to_tier_id, 'retention', 'open', %s, %s, %s
                FROM grading_gradechange ch
                JOIN customers_customer c ON c.id = ch.customer_id
                JOIN grading_tier f ON f.id = ch.from_tier_id
                LEFT JOIN grading_tier t ON t.id = ch.to_tier_id
                WHERE ch.run_id = %s AND f.rank <= %s AND (t.id IS NULL OR t.rank > f.rank)""",
                [
                    timezone.localdate() + dt.timedelta(days=2),
                    f"tier fell: {scheme.code}",
                    now,
                    run.pk,
                    scheme.retention_ranks,
                ],
            )


@transaction.atomic
def grade_override(
    *,
    actor: User,
    customer: Customer,
    scheme: Scheme,
    tier: Tier | None,
    reason: str,
    expires_at: dt.datetime | None = None,
) -> CustomerGrade:
    """An expert sets the customer's tier by hand (None clears the override); audited."""
    require_perm(actor, "grading.edit")
    if not Customer.objects.visible_to(actor).filter(pk=customer.pk).exists():
        raise DomainError(_("No such record."), field="customer")
    if tier is not None and tier.scheme_id != scheme.pk:
        raise DomainError(_("The tier belongs to another scheme."), field="tier")
    if tier is not None and not reason.strip():
        raise DomainError(_("Give a reason for the override."), field="reason")
    if expires_at is not None and expires_at <= timezone.now():
        raise DomainError(_("The expiry must be in the future."), field="expires_at")
    grade, _created = CustomerGrade.objects.select_for_update().get_or_create(
        customer=customer, scheme=scheme
    )
    before = grade.tier_id
    if tier is None:
        grade.override_tier = None
        grade.override_reason = ""
        grade.override_expires_at = None
        grade.tier_id = grade.rule_tier_id
        reason_code = ChangeReason.OVERRIDE_ENDED
    else:
        grade.override_tier = tier
        grade.override_reason = reason.strip()[:500]
        grade.override_by = actor
        grade.override_at = timezone.now()
        grade.override_expires_at = expires_at
        grade.tier = tier
        reason_code = ChangeReason.OVERRIDE
    grade.save()
    if grade.tier_id != before:
        change = GradeChange.objects.create(
            customer=customer,
            scheme=scheme,
            from_tier_id=before,
            to_tier_id=grade.tier_id,
            changed_at=timezone.now(),
            reason=reason_code,
            explanation=reason.strip()[:500],
            actor=actor,
        )
        if customer.owner_id:
            Notification.objects.create(user_id=customer.owner_id, customer=customer, change=change)
        events.publish_on_commit(
            "customer.tier_changed",
            customer_id=customer.pk,
            scheme_id=scheme.pk,
            from_tier_id=before,
            to_tier_id=grade.tier_id,
            reason=reason_code,
        )
    from guanxi.audit.services import access_log_write

    access_log_write(
        actor=actor,
        action="override",
        target_model="customers.customer",
        target_pk=str(customer.pk),
        field=scheme.code,
        detail={"tier": tier.code if tier else None, "reason": reason.strip()[:500]},
    )
    return grade


def follow_ups_plan(*, as_of: dt.date | None = None) -> int:
    """Open a follow-up for every customer whose primary-scheme tier asks to be contacted
    more often than they have been, unless one is already open. Set-based; returns count.

    Idle days run from the customer's last interaction, else from their creation; only
    active customers with an owner are planned, and the follow-up is theirs."""
    scheme = Scheme.objects.filter(is_primary=True, is_active=True).first()
    if scheme is None:
        return 0
    as_of = as_of or timezone.localdate()
    from guanxi.grading import sql

    now = sql.timestamp(timezone.now())
    join, last_contact = _last_contacts()
    idle = sql.days_between("%s", f"COALESCE({last_contact}, c.created_at)")
    with transaction.atomic(), connection.cursor() as cursor:
        sql.tune_for_aggregation()
        sql.no_nested_loops()
        cursor.execute(
            f"""INSERT INTO grading_followup (customer_id, owner_id, tier_id, kind, status, due_on,
                reason, created_at)
            SELECT c.id, c.owner_id, t.id, 'routine', 'open', %s, %s, %s
            FROM grading_customergrade g
            JOIN grading_tier t ON t.id = g.tier_id
            JOIN customers_customer c ON c.id = g.customer_id
            {join}
            WHERE g.scheme_id = %s AND t.follow_up_days IS NOT NULL AND c.owner_id IS NOT NULL
              AND c.status = 'active'
              AND {idle} >= t.follow_up_days
              AND NOT EXISTS (SELECT 1 FROM grading_followup f
                              WHERE f.customer_id = c.id AND f.status = 'open')""",
            [as_of, REASON_INTERVAL, now, scheme.pk, as_of],
        )
        return int(cursor.rowcount)


def _last_contacts() -> tuple[str, str]:
    """The planner's join and expression for each customer's last interaction (NULL when
    none, or without the interactions app): one grouped pass over the interactions in
    customer order, not one look-up per customer."""
    from django.apps import apps

    if not apps.is_installed("guanxi.interactions"):
        return "", "NULL"
    table = apps.get_model("interactions.Interaction")._meta.db_table
    return (
        f"""LEFT JOIN (SELECT customer_id, MAX(occurred_at) AS last_at FROM {table}
                       GROUP BY customer_id) last_contact ON last_contact.customer_id = c.id""",
        "last_contact.last_at",
    )


@transaction.atomic
def follow_up_close(*, actor: User, follow_up: FollowUp, done: bool = True) -> FollowUp:
    """Mark a follow-up done (or cancelled); only its owner or someone who may edit customers."""
    if follow_up.owner_id != actor.pk:
        require_perm(actor, "customers.edit")
    if follow_up.status != FollowUpStatus.OPEN:
        raise DomainError(_("This follow-up is already closed."), field="status")
    follow_up.status = FollowUpStatus.DONE if done else FollowUpStatus.CANCELLED
    follow_up.done_at = timezone.now()
    follow_up.save(update_fields=["status", "done_at"])
    return follow_up


def notifications_mark_read(*, actor: User, ids: list[int] | None = None) -> int:
    qs = Notification.objects.filter(user=actor, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids[:500])
    return qs.update(read_at=timezone.now())
