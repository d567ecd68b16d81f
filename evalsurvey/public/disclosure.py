"""The public disclosure page (公示): published results and objections, for anyone."""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    url_for,
)
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from evalsurvey.domain.assessment import publication as publication_domain
from evalsurvey.extensions import db
from evalsurvey.i18n import _, _l, at_most
from evalsurvey.models import Cycle, Objection
from evalsurvey.public.views import _device_id, _with_device_cookie
from evalsurvey.ratelimit import count_objection
from evalsurvey.web import run_action

bp = Blueprint("disclosure", __name__)


class ObjectionForm(FlaskForm):
    unit = SelectField(_l("对哪个单位的结果有异议"), choices=[])
    # a browser sends each line break as CR LF: counted as one character, as it typed
    text = TextAreaField(
        _l("异议内容"),
        validators=[at_most(publication_domain.OBJECTION_MAX)],
        filters=[lambda s: s.replace("\r\n", "\n") if s else s],
    )
    name = StringField(_l("姓名（选填，不公开）"), validators=[Optional(), at_most(200)])
    contact = StringField(_l("联系方式（选填，不公开）"), validators=[Optional(), at_most(200)])


def _objection(published, form: ObjectionForm) -> None:
    publication_domain.submit_objection(
        published, form.unit.data, form.text.data, form.name.data, form.contact.data
    )
    # counted once it is an objection to store: an empty or overlong post costs the citizen
    # nothing, and 429 (nothing stored) when a limit is spent
    count_objection()


@bp.route("/p/<cycle_code>/<unit_type>", methods=["GET", "POST"])
def disclosure(cycle_code: str, unit_type: str):
    cycle = db.session.scalar(select(Cycle).where(Cycle.code == cycle_code))
    published = publication_domain.publication_of(cycle, unit_type) if cycle else None
    if published is None:
        abort(404)
    rows = publication_domain.public_rows(published)
    form = ObjectionForm()
    form.unit.choices = [("", "—")] + [(r.unit, r.name) for r in rows]
    if form.validate_on_submit():
        if run_action(_objection, published, form, form=form):
            flash(_("您的异议已收到，答复将在本页公布。"))
            return redirect(
                url_for("disclosure.disclosure", cycle_code=cycle_code, unit_type=unit_type), 303
            )
    answered = db.session.scalars(
        select(Objection)
        .where(Objection.publication_id == published.id, Objection.answer != "")
        .order_by(Objection.id)
    )
    names = {r.unit: r.name for r in rows}
    page = render_template(
        "public/disclosure.html",
        cycle=cycle,
        published=published,
        rows=rows,
        form=form,
        open=publication_domain.objections_open(published),
        answered=list(answered),
        names=names,
        labels=publication_domain.grade_labels(published),
    )
    # the device cookie the objection limits count by (a new one for a first visit)
    resp = make_response(page, 400 if form.errors else 200)
    return _with_device_cookie(resp, _device_id()[1])


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
