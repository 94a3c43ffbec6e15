"""The rows `swin-gui inspect` prints for what the checkpoint loader decided."""

from __future__ import annotations

from ...i18n import tr
from .base import LoadReport, prefix_summary


def report_rows(report: LoadReport) -> list[tuple[str, str]]:
    """(field, value) rows: ecosystem, wrapper, key, prefixes, ignored keys, dtype,
    preprocessing, notes and warnings (the missing head is on describe_model's classes row)."""
    others = [c or "." for c in report.candidates if c != report.key]
    key = repr(report.key) if report.key else tr("Inspect", "(the saved dict itself)")
    if report.wrapper == "folder":
        key = tr("Inspect", "- (a folder of weights files)")
    if others:
        key += tr("Inspect", "; also holds {keys}", keys=", ".join(map(repr, others[:4])))
        if len(others) > 4:
            key += tr("Inspect", " (+{n} more)", n=len(others) - 4)
    dtypes = ", ".join(report.dtypes) or "-"
    if any(d != "float32" for d in report.dtypes):
        dtypes += tr("Inspect", " (loaded as float32)")
    none = tr("Inspect", "none")
    rows = [
        (tr("Inspect", "ecosystem"), report.ecosystem or "-"),
        (tr("Inspect", "wrapper"), report.wrapper),
        (tr("Inspect", "state dict key"), key),
        (tr("Inspect", "prefix stripped"), ", ".join(map(repr, report.prefixes)) or none),
        (tr("Inspect", "ignored keys"), prefix_summary(report.ignored) if report.ignored else none),
        (tr("Inspect", "weights dtype"), dtypes),
        (tr("Inspect", "preprocessing"), report.preprocessing),
    ]
    if report.interpolation or report.crop_pct:
        stated = [f"interpolation {report.interpolation}"] if report.interpolation else []
        stated += [f"crop_pct {report.crop_pct:g}"] if report.crop_pct else []
        rows.append((tr("Inspect", "resize stated"), ", ".join(stated)))
    if report.skipped_objects:
        shown = ", ".join(report.skipped_objects[:3])
        if len(report.skipped_objects) > 3:
            shown += tr("Inspect", " (+{n} more)", n=len(report.skipped_objects) - 3)
        skipped = tr("Inspect", "{objects} (read as inert placeholders)", objects=shown)
        rows.append((tr("Inspect", "skipped objects"), skipped))
    rows += [(tr("Inspect", "note"), note) for note in report.notes]
    rows += [(tr("Inspect", "warning"), warning) for warning in report.warnings]
    return rows
