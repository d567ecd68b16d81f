"""The questionnaire builder: a questionnaire built item by item through the pages equals the
imported JSON of the same content, errors come back in Chinese by the item, and the preview
renders the items exactly as the phone page does."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from evalsurvey.domain import questionnaires as qdomain
from evalsurvey.extensions import db
from evalsurvey.models import Questionnaire
from tests.factories import hidden_fields, login, make_link, make_staff
from tests.public.test_browser import live_server, page  # noqa: F401 (fixtures)

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


def test_preview_shows_unsaved_edits_and_items_copy_from_an_earlier_version(app, client):
    make_staff("adm")
    login(client, "adm")
    token = hidden_fields(client.get("/admin/questionnaires").get_data(as_text=True))["csrf_token"]
    earlier = qdomain.create_draft(TARGET)
    qdomain.publish(earlier)
    draft = qdomain.new_questionnaire("NEWQ", "新问卷")
    db.session.commit()
    url = f"/admin/questionnaires/{draft.id}/build"
    before = qdomain.to_json(draft)

    def post(headers=None, **data):
        return client.post(url, data={"csrf_token": token, **data}, headers=headers or {})

    # the button (no JavaScript): the whole page, the edit kept in its form, nothing saved
    shown = post(action="preview", code="wait", type="satisfaction5", text="等候时间")
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200 and 'id="q-wait"' in html and "尚未保存的修改" in html
    assert 'value="wait"' in html  # still in the form, to save or change
    # builder.js: the preview pane alone, as the phone page renders it
    pane = post(headers={"X-Preview": "1"}, action="preview", index="0", code="q1",
                type="scale10", text="推荐意愿")  # fmt: skip
    assert pane.status_code == 200 and "<html" not in pane.get_data(as_text=True)
    assert 'name="q1" value="10"' in pane.get_data(as_text=True)
    wrong = post(headers={"X-Preview": "1"}, action="preview", code="x", type="single", text="t",
                 options="a|唯一")  # fmt: skip
    assert wrong.status_code == 400 and "至少需要两项" in wrong.get_data(as_text=True)
    db.session.expire_all()
    assert qdomain.to_json(db.session.get(Questionnaire, draft.id)) == before  # nothing saved
    # nor the transient questionnaire a preview is drawn from
    assert db.session.scalar(select(func.count()).select_from(Questionnaire)) == 2
    # copy two items of the published version, in its order
    listed = client.get(f"{url}?from={earlier.id}").get_data(as_text=True)
    assert 'name="codes" value="chan"' in listed
    done = post(action="copy", source=str(earlier.id), codes=["pts", "attitude"])
    assert done.status_code == 303
    db.session.expire_all()
    codes = [i.code for i in db.session.get(Questionnaire, draft.id).items]
    assert codes[-2:] == ["attitude", "pts"]
    again = post(action="copy", source=str(earlier.id), codes=["pts"])
    assert again.status_code == 400 and "已在本问卷中" in again.get_data(as_text=True)


@pytest.mark.browser
def test_the_preview_follows_typing_in_a_real_browser(app, live_server, page):  # noqa: F811
    make_staff("adm")
    draft = qdomain.new_questionnaire("LIVE", "实时预览")
    db.session.commit()
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server}/auth/login")
    page.fill("#username", "adm")
    page.fill("#password", "secret-pass-1")
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.goto(f"{live_server}/admin/questionnaires/{draft.id}/build")
    first = page.locator("form.item-form").first
    first.locator("textarea[name=text]").fill("您对办事等候时间满意吗")
    page.locator("#phone legend", has_text="您对办事等候时间满意吗").wait_for(timeout=5000)
    first.locator("select[name=type]").select_option("scale10")
    page.locator('#phone input[value="10"]').wait_for(timeout=5000)
    db.session.expire_all()
    assert db.session.get(Questionnaire, draft.id).items[0].text != "您对办事等候时间满意吗"
