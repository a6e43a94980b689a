"""电子证书查询打印 (查询统计), the person's own certificates (个人中心) and the public verification page."""
from __future__ import annotations

from flask import Response, current_app, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.actor import current_actor
from app.admin.downloads import content_disposition
from app.errors import NotFound
from app.extensions import db
from app.interface import parse_id
from app.models import Person
from app.scope import current_scope
from app.services import certificate_pdf as pdf
from app.services import certificates as service
from app.services.transaction import transaction

PAGE_SIZE = 20


def _base_url() -> str:
    return request.url_root


def pdf_response(data: bytes, name: str) -> Response:
    response = Response(data, mimetype=pdf.PDF_MIMETYPE)
    response.headers["Content-Disposition"] = content_disposition(name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _print(items: list) -> Response:
    """Issue (first print writes the certificate rows) and render in the request."""
    with transaction():
        service.issue(items)
    return pdf_response(pdf.pdf_bytes(items, _base_url()), pdf.file_name(items))


class CertificateView(BaseView):
    """电子证书查询打印: approved verifications of the viewer's subtree, one PDF or many."""

    route_base = "/certificates"
    default_view = "list"
    class_permission_name = "Certificate"
    method_permission_name = {"list": "read", "pdf": "read", "print_many": "read"}

    @expose("/")
    @has_access
    def list(self):
        scope = current_scope()
        filters = service.Filters.from_args(request.args)
        page_number = max(0, min(parse_id(request.args.get("page")) or 1, 100_000) - 1)
        total = service.count(scope, filters)
        items = service.page(scope, filters, page_number, PAGE_SIZE)
        pages = max(1, -(-total // PAGE_SIZE))
        return self.render_template(
            "certificates/list.html", title=_("Certificate query and printing"), items=items, filters=filters,
            years=service.years(scope), total=total, page=page_number + 1, pages=pages,
            sync_max=current_app.config.get("CERTIFICATE_SYNC_MAX", 20),
            max_per_pdf=current_app.config.get("CERTIFICATE_MAX_PER_PDF", 5000))

    @expose("/<int:pk>/pdf")
    @has_access
    def pdf(self, pk):
        """One certificate; outside the subtree (or not approved) 404."""
        return _print([service.one(current_scope(), pk)])

    @expose("/print", methods=["POST"])
    @has_access
    def print_many(self):
        """The ticked certificates, or everything matching the filter: in the request when few, else a job."""
        scope, actor = current_scope(), current_actor()
        sync_max = int(current_app.config.get("CERTIFICATE_SYNC_MAX", 20))
        limit = int(current_app.config.get("CERTIFICATE_MAX_PER_PDF", 5000))
        back = url_for(".list", **{k: v for k, v in service.Filters.from_args(request.form).as_params().items() if v})
        if request.form.get("mode") == "all":
            filters = service.Filters.from_args(request.form)
            total = service.count(scope, filters, cap=limit + 1)
            params = {"filters": filters.as_params()}
        else:
            chosen = [parse_id(v) for v in request.form.getlist("ids")[:limit + 1]]
            ids = service.scoped_ids(scope, [i for i in chosen if i])
            total = len(ids)
            params = {"ids": ids}
        if total == 0:
            flash(_("Please choose at least one certificate"), "warning")
            return redirect(back)
        if total > limit:
            flash(_("At most %(n)d certificates can be printed into one PDF; please narrow the search", n=limit),
                  "warning")
            return redirect(back)
        if total <= sync_max:
            ids = params.get("ids") or service.filtered_ids(scope, service.Filters.from_args(request.form), limit)
            return _print(service.for_ids(ids))
        from app import jobs

        job = jobs.submit("certificates", actor=actor, title=_("Print certificates (%(n)d)", n=total),
                          params={**params, "base_url": _base_url()}, total=total)
        flash(_("The certificates are being printed in the background; download the PDF in My jobs when it is "
                "finished"), "info")
        return redirect(url_for("JobView.list", highlight=job.id))


class MyCertificateView(BaseView):
    """The person's own certificate of a year (listed on 我的信息); anybody else's is 404."""

    route_base = "/me/certificates"
    class_permission_name = "SelfService"
    method_permission_name = {"download": "read"}

    @expose("/<int:year>.pdf")
    @has_access
    def download(self, year):
        person_id = db.session.scalar(select(Person.id).where(Person.account_id == g.user.id))
        if person_id is None:
            raise NotFound()
        return _print([service.own_year(person_id, year)])


class CertificateVerifyView(BaseView):
    """The page the QR code opens: no sign-in, rate-limited per address, masked personal data."""

    route_base = "/certificate"
    default_view = "verify_form"

    def create_blueprint(self, appbuilder, endpoint=None, static_folder=None):
        blueprint = super().create_blueprint(appbuilder, endpoint=endpoint, static_folder=static_folder)
        limit = current_app.config.get("CERTIFICATE_VERIFY_RATE_LIMIT", "30 per minute")
        appbuilder.sm.limiter.limit(limit)(blueprint)
        return blueprint

    @expose("/verify/")
    def verify_form(self):
        number = request.args.get("number", "")
        if isinstance(number, str) and number.strip():
            return redirect(url_for(".verify", number=number.strip()[:service.NUMBER_MAX_LENGTH]))
        return self.render_template("certificates/verify.html", title=_("Certificate verification"), result=None,
                                    number="")

    @expose("/verify/<string:number>")
    def verify(self, number):
        result = service.verify(number)
        status = 404 if result.state == "unknown" else 200
        return self.render_template("certificates/verify.html", title=_("Certificate verification"), result=result,
                                    number=number[:service.NUMBER_MAX_LENGTH]), status


def register(appbuilder) -> None:
    from app.navigation import STATISTICS, category

    appbuilder.add_view(CertificateView, "Certificates", label=_l("Certificate query and printing"),
                        icon="fa-certificate", **category(STATISTICS))
    appbuilder.add_view_no_menu(MyCertificateView)
    appbuilder.add_view_no_menu(CertificateVerifyView)

