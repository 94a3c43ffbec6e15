"""The rows `swin-gui inspect` prints for what the checkpoint loader decided."""

from __future__ import annotations

from .base import LoadReport, prefix_summary


def report_rows(report: LoadReport) -> list[tuple[str, str]]:
    """(field, value) rows: ecosystem, wrapper, key, prefixes, ignored keys, dtype,
    preprocessing, notes and warnings (the missing head is on describe_model's classes row)."""
    others = [c or "." for c in report.candidates if c != report.key]
    key = repr(report.key) if report.key else "(the saved dict itself)"
    if report.wrapper == "folder":
        key = "- (a folder of weights files)"
    if others:
        key += f"; also holds {', '.join(map(repr, others[:4]))}" + (
            f" (+{len(others) - 4} more)" if len(others) > 4 else ""
        )
    dtypes = ", ".join(report.dtypes) or "-"
    if any(d != "float32" for d in report.dtypes):
        dtypes += " (loaded as float32)"
    rows = [
        ("ecosystem", report.ecosystem or "-"),
        ("wrapper", report.wrapper),
        ("state dict key", key),
        ("prefix stripped", ", ".join(map(repr, report.prefixes)) or "none"),
        ("ignored keys", prefix_summary(report.ignored) if report.ignored else "none"),
        ("weights dtype", dtypes),
        ("preprocessing", report.preprocessing),
    ]
    if report.interpolation or report.crop_pct:
        stated = [f"interpolation {report.interpolation}"] if report.interpolation else []
        stated += [f"crop_pct {report.crop_pct:g}"] if report.crop_pct else []
        rows.append(("resize stated", ", ".join(stated)))
    if report.skipped_objects:
        shown = ", ".join(report.skipped_objects[:3])
        more = (
            f" (+{len(report.skipped_objects) - 3} more)" if len(report.skipped_objects) > 3 else ""
        )
        rows.append(("skipped objects", f"{shown}{more} (read as inert placeholders)"))
    rows += [("note", note) for note in report.notes]
    rows += [("warning", warning) for warning in report.warnings]
    return rows
