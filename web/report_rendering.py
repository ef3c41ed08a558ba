"""The school's report as HTML and as PDF, from one template (web/templates/report.html): the page extends
the site's layout, the PDF a print layout with the same content, so what is downloaded is what is shown.

WeasyPrint renders the PDF in-process (no browser to start); charts are inline SVG, vector in print.
The worker uses this too, to attach the PDF to the report email.
"""

from typing import Any

from markupsafe import Markup

from charts.maturity_profile import ThemeLevels, maturity_profile
from domain.report_document import ReportDocument
from web.templating import TEMPLATES

PRINT_LAYOUT = "print.html"
PAGE_LAYOUT = "base.html"


def profile_chart(doc: ReportDocument) -> Markup:
    series = ["Self-evaluation", doc.agreed_label]
    if doc.re_evaluated:
        series.append("Re-evaluation")
    themes = [ThemeLevels(t.title, [t.self_level, t.agreed_level, t.re_level][: len(series)]) for t in doc.profile]
    words = "; ".join(
        f"{t.title}: self-evaluation {t.self_level or 'none'}, {doc.agreed_label.lower()} {t.agreed_level or 'none'}"
        + (f", re-evaluation {t.re_level or 'none'}" if doc.re_evaluated else "")
        for t in doc.profile
    )
    svg = maturity_profile(
        title=f"Maturity profile of {doc.institution}", series=series, themes=themes, desc=f"Levels 1 to 4. {words}"
    )
    return Markup(svg)  # built from escaped parts by charts/


def document_context(doc: ReportDocument, layout: str, **extra: Any) -> dict[str, Any]:
    return {"doc": doc, "layout": layout, "chart": profile_chart(doc), "pdf": layout == PRINT_LAYOUT, **extra}


def report_html(doc: ReportDocument, template: str = "report.html") -> str:
    """The print version of a page about the report (the report itself, or the staff summary)."""
    return TEMPLATES.env.get_template(template).render(document_context(doc, PRINT_LAYOUT))


def html_to_pdf(html: str) -> bytes:
    """A page in the print layout as an A4 PDF: CPU work for a fraction of a second, so async callers run it in a
    thread. The report and the insight page both print through here."""
    from weasyprint import HTML  # imported when a PDF is wanted: it takes half a second, every `cis` command would pay

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


def report_pdf(doc: ReportDocument) -> bytes:
    """The report as an A4 PDF."""
    return html_to_pdf(report_html(doc))


def pdf_filename(doc: ReportDocument) -> str:
    return f"{doc.urn}-{doc.title.lower().replace(' ', '-')}.pdf"
