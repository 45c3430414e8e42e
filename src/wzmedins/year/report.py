"""The year's report: one self-contained HTML page, its figures as PNG and its tables as Parquet.

Every figure and every table on the page names the Parquet file it was drawn from, written beside
the report, so a number on the page can be traced to a row (docs/year.md, "The report").

The page embeds its figures (``data:`` URIs) so it can be mailed as one file; the same PNGs are
written beside it for slides. Money is shown in yuan with two decimals (``tables.fen_to_yuan``),
never through a float.
"""

from __future__ import annotations

import base64
import html
import os
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ..tables import fen_to_yuan

STYLE = """
body { font-family: "Noto Sans CJK SC", "Helvetica Neue", Arial, sans-serif; margin: 2em auto;
       max-width: 1100px; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: .5em 0 1em; font-size: .9em; }
th, td { border: 1px solid #ddd; padding: .25em .6em; text-align: right; }
th { background: #f3f3f3; } td.text, th.text { text-align: left; }
.source { color: #777; font-size: .8em; } .fail { color: #b00; font-weight: bold; }
.ok { color: #070; font-weight: bold; } figure { margin: 1em 0; }
img { max-width: 100%; border: 1px solid #eee; }
"""


@dataclass
class Section:
    """A heading, a few paragraphs, figures and tables, in that order."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    figures: list[tuple[str, str, str]] = field(default_factory=list)  # (png file, caption, source table)
    tables: list[tuple[str, pa.Table, str]] = field(default_factory=list)  # (caption, table, source table)
    element_id: str = ""


@dataclass
class Report:
    """A report being assembled in folder ``out``: tables written as Parquet, figures as PNG."""

    out: Path
    title: str
    sections: list[Section] = field(default_factory=list)
    written: dict[str, Path] = field(default_factory=dict)

    def table(self, name: str, table: pa.Table) -> str:
        """Write ``table`` as ``name.parquet`` beside the report; returns the file name."""
        path = self.out / f"{name}.parquet"
        pq.write_table(table, path)
        self.written[name] = path
        return path.name

    def figure(self, name: str, fig) -> str:
        """Save a matplotlib figure as ``name.png`` beside the report and close it."""
        import matplotlib.pyplot as plt

        path = self.out / f"{name}.png"
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
        return path.name

    def render(self) -> Path:
        """Write ``report.html`` and return its path."""
        parts = [
            "<!DOCTYPE html>",
            '<html lang="zh-CN"><head><meta charset="utf-8">',
            f"<title>{html.escape(self.title)}</title><style>{STYLE}</style></head><body>",
            f"<h1>{html.escape(self.title)}</h1>",
        ]
        for s in self.sections:
            sid = f' id="{html.escape(s.element_id)}"' if s.element_id else ""
            parts.append(f"<section{sid}><h2>{html.escape(s.title)}</h2>")
            parts += [f"<p>{p}</p>" for p in s.paragraphs]
            for png, caption, source in s.figures:
                data = base64.b64encode((self.out / png).read_bytes()).decode()
                parts.append(
                    f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
                    f"<figcaption>{html.escape(caption)} "
                    f'<span class="source">(figure {html.escape(png)}; data {html.escape(source)})</span>'
                    "</figcaption></figure>"
                )
            for caption, table, source in s.tables:
                parts.append(f"<h3>{html.escape(caption)}</h3>")
                parts.append(html_table(table))
                parts.append(f'<p class="source">data: {html.escape(source)}</p>')
            parts.append("</section>")
        parts.append("</body></html>")
        path = self.out / "report.html"
        path.write_text("\n".join(parts), encoding="utf-8")
        return path


def html_table(table: pa.Table, *, money: tuple[str, ...] | None = None, max_rows: int = 60) -> str:
    """An HTML table; int64 columns named in ``money`` (default: every int64 column whose name is
    not a count) are shown in yuan.

    Examples
    --------
    >>> t = pa.table({"county": ["lucheng"], "fund": [123456], "claims": [3]})
    >>> print(html_table(t, money=("fund",)))  # doctest: +NORMALIZE_WHITESPACE
    <table><tr><th class="text">county</th><th>fund</th><th>claims</th></tr>
    <tr><td class="text">lucheng</td><td>1234.56</td><td>3</td></tr></table>
    """
    if money is None:
        money = tuple(f.name for f in table.schema if pa.types.is_int64(f.type) and not is_count(f.name))
    names = table.column_names
    text = {n for n, f in zip(names, table.schema, strict=True) if not _numeric(f.type)}
    cls = {n: ' class="text"' if n in text else "" for n in names}
    head = "".join(f"<th{cls[n]}>{html.escape(n)}</th>" for n in names)
    rows = [f"<table><tr>{head}</tr>"]
    for row in table.slice(0, max_rows).to_pylist():
        cells = []
        for n in names:
            v = row[n]
            if v is None:
                shown = ""
            elif n in money:
                shown = fen_to_yuan(v)
            else:
                shown = str(v)
            cells.append(f"<td{cls[n]}>{html.escape(shown)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    if table.num_rows > max_rows:
        rows.append(f'<tr><td class="text" colspan="{len(names)}">… {table.num_rows - max_rows} more rows</td></tr>')
    return "\n".join(rows) + "</table>"


# integer columns that count things or hold ratios rather than fen
COUNT_COLUMNS = frozenset(
    {
        "cases",
        "persons",
        "rejected",
        "settled",
        "year",
        "month",
        "months",
        "signed",
        "late",
        "row",
        "months_e1",
        "weight_months",
    }
)


def is_count(name: str) -> bool:
    """True for an integer column that is not money: counts, basis points (``*_bp``), months.

    Examples
    --------
    >>> is_count("share_bp"), is_count("months_e1"), is_count("fund")
    (True, True, False)
    """
    return name in COUNT_COLUMNS or name.endswith("_bp") or name.startswith("n_")


def _numeric(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)


def new_report(out: str | os.PathLike, title: str) -> Report:
    """A report in folder ``out`` (created)."""
    path = Path(out)
    path.mkdir(parents=True, exist_ok=True)
    return Report(path, title)
