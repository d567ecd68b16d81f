"""The questionnaire builder: a questionnaire built item by item through the pages equals the
imported JSON of the same content, errors come back in Chinese by the item, and the preview
renders the items exactly as the phone page does."""

from __future__ import annotations

import re

from sqlalchemy import select

from evalsurvey.domain import questionnaires as qdomain
from evalsurvey.extensions import db
from evalsurvey.models import Questionnaire
from tests.factories import hidden_fields, login, make_link, make_staff

TARGET = {
    "code": "BUILT",
    "title": "窗口服务评价",
    "title_en": "Window service",
    "intro": "请如实评价。",
    "intro_en": "Please rate honestly.",
    "items": [
        {"code": "attitude", "text": "服务态度", "text_en": "Attitude", "type": "satisfaction5",
         "required": True},
        {"code": "chan", "text": "您从哪里得知", "text_en": "", "type": "single", "required": False,
         "options": [{"code": "a", "text": "海报", "text_en": "Poster"},
                     {"code": "b", "text": "朋友", "text_en": ""}]},
        {"code": "pts", "text": "总体打分", "text_en": "Overall", "type": "points",
         "required": True, "max_points": 10.0},
    ],
}  # fmt: skip


def _items_block(html: str) -> str:
    start = html.index('<div class="card" id="q-')
    end = html.index('<div class="card">\n<label for="comment">')
    return html[start:end]


def test_built_item_by_item_equals_the_imported_json_and_previews_as_the_phone(app, client):
    make_staff("adm")
    login(client, "adm")
    token = hidden_fields(client.get("/admin/questionnaires").get_data(as_text=True))["csrf_token"]
    new = {"csrf_token": token, "action": "new", "code": "BUILT", "title": "窗口服务评价"}
    made = client.post("/admin/questionnaires", data=new)
    assert made.status_code == 303
    q = db.session.scalar(select(Questionnaire).where(Questionnaire.code == "BUILT"))
    url = f"/admin/questionnaires/{q.id}/build"

    def post(**data):
        return client.post(url, data={"csrf_token": token, **data})

    post(action="texts", title="窗口服务评价", title_en="Window service", intro="请如实评价。",
         intro_en="Please rate honestly.")  # fmt: skip
    post(action="save", code="pts", type="points", text="总体打分", text_en="Overall",
         required="1", max_points="10")  # fmt: skip
    post(action="save", code="chan", type="single", text="您从哪里得知",
         options="a|海报|Poster\nb|朋友")  # fmt: skip
    # a mistake answers in Chinese next to the item and changes nothing
    bad = post(action="save", code="bad", type="single", text="只有一个选项", options="a|唯一")
    assert bad.status_code == 400 and "至少需要两项" in bad.get_data(as_text=True)
    # replace the starting item, then order the items
    post(action="save", index="0", code="attitude", type="satisfaction5", text="服务态度",
         text_en="Attitude", required="1")  # fmt: skip
    post(action="up", index="2")  # chan above pts
    # removing asks first: without the tick nothing goes
    assert "确认删除" in post(action="remove", index="1").get_data(as_text=True)
    post(action="save", code="extra", type="text", text="其他")
    post(action="remove", index="3", sure="1")
    db.session.expire_all()
    q = db.session.get(Questionnaire, q.id)
    built = qdomain.to_json(q)
    imported = qdomain.to_json(qdomain.create_draft(TARGET))
    assert {k: v for k, v in built.items() if k != "version"} == {
        k: v for k, v in imported.items() if k != "version"
    }
    preview = client.get(f"/admin/questionnaires/{q.id}/preview").get_data(as_text=True)
    assert "不能提交" in preview
    qdomain.publish(q)
    db.session.commit()
    link = make_link(questionnaire=q)
    phone = app.test_client().get(f"/s/{link.code}").get_data(as_text=True)
    assert _items_block(preview) == _items_block(phone)
    assert re.search(r'name="chan" value="a"', phone)
    # a published version is no longer built: it goes back to its page
    assert client.get(url).status_code == 302
