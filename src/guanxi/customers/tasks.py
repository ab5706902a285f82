"""Background jobs of the customers domain: running and analysing import jobs."""

from __future__ import annotations

from guanxi.core.tasks import task


@task
def import_job_run_task(job_id: int) -> None:
    """Import a queued job's rows; resumes after its last committed batch."""
    from guanxi.customers.imports.service import import_job_run

    import_job_run(job_id)


@task
def import_job_analyse_task(job_id: int) -> None:
    """The dry run of a large uploaded file."""
    from guanxi.customers.imports.service import import_job_analyse_background

    import_job_analyse_background(job_id)
