"""The questionnaire builder: a questionnaire built item by item through the pages equals the
imported JSON of the same content, errors come back in Chinese by the item, and the preview
renders the items exactly as the phone page does."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from evalsurvey.domain.collecting import questionnaires as qdomain
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


def _sign_in(tab, server: str) -> None:
    """The admin "adm" signed in through the login page of ``server``, in ``tab``."""
    tab.goto(f"{server}/auth/login")
    tab.fill("#username", "adm")
    tab.fill("#password", "secret-pass-1")
    with tab.expect_navigation():
        tab.click("button[type=submit]")


def _new_posted(client, code: str, title: str) -> dict[str, str]:
    """An admin signed in, and the questionnaire list's "new" form as it posts."""
    make_staff("adm")
    login(client, "adm")
    token = hidden_fields(client.get("/admin/questionnaires").get_data(as_text=True))["csrf_token"]
    return {"csrf_token": token, "action": "new", "code": code, "title": title}


def test_built_item_by_item_equals_the_imported_json_and_previews_as_the_phone(app, client):
    new = _new_posted(client, "BUILT", "窗口服务评价")
    token = new["csrf_token"]
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
    qdomain.freeze_version(q)
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
    qdomain.freeze_version(earlier)
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
    twice = post(headers={"X-Preview": "1"}, action="preview", code="x", type="single", text="t",
                 options="a|是\nb|否\na|不确定")  # fmt: skip
    assert twice.status_code == 400 and "选项编码“a”重复" in twice.get_data(as_text=True)
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
    _sign_in(page, live_server)
    page.goto(f"{live_server}/admin/questionnaires/{draft.id}/build")
    first = page.locator("form.item-form").first
    first.locator("textarea[name=text]").fill("您对办事等候时间满意吗")
    page.locator("#phone legend", has_text="您对办事等候时间满意吗").wait_for(timeout=5000)
    first.locator("select[name=type]").select_option("scale10")
    page.locator('#phone input[value="10"]').wait_for(timeout=5000)
    db.session.expire_all()
    assert db.session.get(Questionnaire, draft.id).items[0].text != "您对办事等候时间满意吗"


def _three_items() -> Questionnaire:
    draft = qdomain.create_draft({**TARGET, "code": "BTN"})
    db.session.commit()
    return draft


def _stored(qid: int) -> list[str]:
    db.session.expire_all()
    return [i.code for i in db.session.get(Questionnaire, qid).items]


def _item_forms(html: str) -> list:
    import lxml.html

    return lxml.html.fromstring(html).xpath('//form[contains(@class, "item-form")]')


def _click(client, url: str, item: int, button: str, **typed):
    """Post the builder's ``item``-th item form as a browser does when ``button`` (the value
    of a button named "action") is clicked: every field of that form in page order, then the
    button's own name and value (QA: a hidden ``action=save`` went first and won)."""
    html = client.get(url).get_data(as_text=True)
    form = _item_forms(html)[item]
    assert form.xpath(f'.//button[@name="action"][@value="{button}"]'), button
    data = [(k, typed.get(k, v)) for k, v in form.form_values()]
    data += [(k, v) for k, v in typed.items() if k not in dict(data)]
    data.append(("action", button))
    from werkzeug.datastructures import MultiDict

    return client.post(url, data=MultiDict(data))


def test_each_builder_button_does_what_it_says(app, client):
    """QA (issue 17): "删除此题" and "↑上移" changed nothing and said "已保存"; "预览（不保存）"
    saved. Each item form's buttons, posted as a browser posts them."""
    make_staff("adm")
    login(client, "adm")
    draft = _three_items()
    url = f"/admin/questionnaires/{draft.id}/build"
    assert _stored(draft.id) == ["attitude", "chan", "pts"]
    # no item form carries a hidden action: the clicked button is the action
    assert 'type="hidden" name="action"' not in client.get(url).get_data(as_text=True)

    up = _click(client, url, 2, "up")
    assert up.status_code == 303 and _stored(draft.id) == ["attitude", "pts", "chan"]
    assert "已将第 3 题上移。" in client.get(url).get_data(as_text=True)
    down = _click(client, url, 0, "down")
    assert down.status_code == 303 and _stored(draft.id) == ["pts", "attitude", "chan"]
    # the first item has no "up", the last no "down"
    forms = _item_forms(client.get(url).get_data(as_text=True))
    assert not forms[0].xpath('.//button[@value="up"]')
    assert not forms[2].xpath('.//button[@value="down"]')

    # preview: an edit shown, nothing stored
    shown = _click(client, url, 1, "preview", text="改过的题目")
    assert shown.status_code == 200 and "改过的题目" in shown.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Questionnaire, draft.id).items[1].text == "服务态度"

    # remove: not without the tick, said by the item; with it, gone
    refused = _click(client, url, 1, "remove")
    assert refused.status_code == 400 and "删除前请勾选" in refused.get_data(as_text=True)
    assert _stored(draft.id) == ["pts", "attitude", "chan"]
    gone = _click(client, url, 1, "remove", sure="1")
    assert gone.status_code == 303 and _stored(draft.id) == ["pts", "chan"]
    assert "已删除第 2 题。" in client.get(url).get_data(as_text=True)

    # save still saves, and so does pressing Enter (the first button, "保存")
    saved = _click(client, url, 0, "save", text="总体评分")
    assert saved.status_code == 303
    db.session.expire_all()
    assert db.session.get(Questionnaire, draft.id).items[0].text == "总体评分"

    # an old page posting two actions does nothing rather than guess
    token = hidden_fields(client.get(url).get_data(as_text=True))["csrf_token"]
    from werkzeug.datastructures import MultiDict

    stale = client.post(
        url, data=MultiDict([("csrf_token", token), ("action", "save"), ("index", "0"),
                             ("action", "remove"), ("sure", "1")])
    )  # fmt: skip
    assert stale.status_code == 400 and "页面已过期" in stale.get_data(as_text=True)
    assert _stored(draft.id) == ["pts", "chan"]


@pytest.mark.browser
@pytest.mark.parametrize("scripts", [True, False], ids=["javascript", "no-javascript"])
def test_the_builder_buttons_in_a_real_browser(app, live_server, page, scripts):  # noqa: F811
    """Each button clicked in Chromium, with JavaScript on and off; the stored questionnaire
    checked after each."""
    make_staff("adm")
    draft = _three_items()
    browser = page.context.browser
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, java_script_enabled=scripts
    )
    tab = context.new_page()
    _sign_in(tab, live_server)
    url = f"{live_server}/admin/questionnaires/{draft.id}/build"
    tab.goto(url)

    def item(n: int):
        return tab.locator("form.item-form").nth(n)

    def click(n: int, name: str):
        with tab.expect_navigation():
            item(n).get_by_role("button", name=name, exact=True).click()

    click(2, "↑ 上移")
    assert _stored(draft.id) == ["attitude", "pts", "chan"]
    assert "已将第 3 题上移。" in tab.content()
    click(0, "↓ 下移")
    assert _stored(draft.id) == ["pts", "attitude", "chan"]

    item(1).locator("textarea[name=text]").fill("预览里的新题目")
    click(1, "预览（不保存）")
    assert tab.locator("#phone legend", has_text="预览里的新题目").count() == 1
    assert "尚未保存的修改" in tab.content()
    db.session.expire_all()
    assert db.session.get(Questionnaire, draft.id).items[1].text == "服务态度"

    tab.goto(url)
    click(1, "删除此题")  # without the tick: refused by the item, nothing removed
    assert "删除前请勾选" in item(1).inner_text()
    assert _stored(draft.id) == ["pts", "attitude", "chan"]
    item(1).get_by_label("确认删除").check()
    click(1, "删除此题")
    assert _stored(draft.id) == ["pts", "chan"]
    assert "已删除第 2 题。" in tab.content()

    item(0).locator("textarea[name=text]").fill("总体评分")
    click(0, "保存")
    db.session.expire_all()
    assert db.session.get(Questionnaire, draft.id).items[0].text == "总体评分"
    context.close()


def test_bad_posted_values_are_messages_by_the_field_not_errors(app, client):
    """Issue 16: each builder button reads its own form; a value no browser sends from the page
    (an item's place that is no number, an unknown type, a source that is no questionnaire)
    is answered with a sentence by its form, never a 500, and changes nothing."""
    make_staff("adm")
    login(client, "adm")
    draft = _three_items()
    url = f"/admin/questionnaires/{draft.id}/build"
    token = hidden_fields(client.get(url).get_data(as_text=True))["csrf_token"]

    def post(**data):
        resp = client.post(url, data={"csrf_token": token, **data})
        return resp.status_code, resp.get_data(as_text=True)

    for index in ("x", "-1", "2147483648", ""):
        status, html = post(action="up", index=index)
        assert status == 400 and "没有这道题。" in html, index
    status, html = post(action="remove", index="9", sure="1")
    assert status == 400 and "没有这道题。" in html
    # an item's problems by its fields, in the item's own form, with what was typed
    status, html = post(action="save", index="1", code="", type="nonsense", text="改过")
    form = _item_forms(html)[1]
    text = form.text_content()
    assert status == 400 and "请填写题目编码。" in text and "请选择题型。" in text
    assert form.xpath('.//textarea[@name="text"]')[0].text.strip() == "改过"
    status, html = post(action="save", code="pts2", type="points", text="打分")
    assert status == 400 and "请填写评分题的满分。" in _item_forms(html)[-1].text_content()
    for source in ("abc", "0", "2147483648", "99999"):
        status, html = post(action="copy", source=source, codes="pts")
        assert status == 400 and "请选择另一份问卷或另一个版本。" in html, source
    status, html = post(action="delete-all")
    assert status == 400 and "页面已过期" in html
    status, html = post(action="texts", title=" ")
    assert status == 400 and "请填写标题。" in html
    assert _stored(draft.id) == ["attitude", "chan", "pts"]
    db.session.expire_all()
    assert db.session.get(Questionnaire, draft.id).title == TARGET["title"]


def test_a_new_questionnaire_is_refused_by_its_fields_in_the_readers_language(app, client):
    new = _new_posted(client, "", "标题")
    resp = client.post("/admin/questionnaires", data=new)
    assert resp.status_code == 400 and "请填写编码。" in resp.get_data(as_text=True)
    bad = client.post("/admin/questionnaires", data={**new, "code": "有 空格"})
    assert bad.status_code == 400 and "问卷编码只能包含" in bad.get_data(as_text=True)
    english = client.post("/admin/questionnaires?lang=en", data={**new, "title": ""})
    assert english.status_code == 400 and "Please enter a title." in english.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Questionnaire)) == 0


def test_the_list_page_refuses_a_button_it_does_not_have(app, client):
    new = _new_posted(client, "ODD", "标题")
    resp = client.post("/admin/questionnaires", data={**new, "action": "odd"})
    assert resp.status_code == 400 and "页面已过期" in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Questionnaire)) == 0


def _field_label(form, name: str):
    """The label holding the item form's field ``name`` (its errors are spans inside it)."""
    return form.xpath(f'.//label[.//*[@name="{name}"]]')[0]


def test_an_items_problems_are_said_by_its_fields_never_by_json_keys(app, client):
    """QA D4: a bad 满分 said "#2：“max_points”必须是数字。" at the top of the card; each
    problem is now worded by the field and shown next to it, in the reader's language."""
    make_staff("adm")
    login(client, "adm")
    draft = _three_items()
    url = f"/admin/questionnaires/{draft.id}/build"
    token = hidden_fields(client.get(url).get_data(as_text=True))["csrf_token"]
    keys = ("max_points", "options", "“code”", "“text”", "#1", "#2", "#3", "#4")
    cases = [
        ({"type": "points", "max_points": "abc"}, "max_points", "满分必须是数字"),
        ({"type": "points", "max_points": "0"}, "max_points", "请填写大于 0 的满分。"),
        ({"type": "points", "max_points": "-3"}, "max_points", "请填写大于 0 的满分。"),
        ({"type": "points", "max_points": "inf"}, "max_points", "满分必须是数字"),
        ({"type": "single", "options": "a|唯一"}, "options", "至少需要两项"),
        ({"type": "multiple", "options": "a|是\nb"}, "options", "第 2 个选项要有编码和中文"),
        ({"type": "single", "options": "a;b|是\nc|否"}, "options", "不能包含“;”"),
        ({"type": "single", "options": "a|是\na|否"}, "options", "选项编码“a”重复"),
        ({"type": "text", "code": "comment"}, "code", "保留的列名"),
        ({"type": "text", "code": "chan"}, "code", "已有编码为 chan 的题目"),  # the domain's
    ]
    for index in ("1", None):  # an item edited, and the new one
        for typed, field, said in cases:
            data = {"csrf_token": token, "action": "save", "code": "x9", "text": "题", **typed}
            if index is not None:
                data["index"] = index
                if typed.get("code") == "chan":
                    data["code"] = "pts"  # item 2 (chan) renamed to the third item's code
            resp = client.post(url, data=data)
            form = _item_forms(resp.get_data(as_text=True))[1 if index else -1]
            shown = form.text_content()
            assert resp.status_code == 400, typed
            assert said.replace("chan", data["code"]) in _field_label(form, field).text_content()
            assert not form.xpath('.//p[@class="err"]'), typed  # nothing at the card's top
            assert not any(k in shown for k in keys), (typed, shown)
    typed = {"code": "x9", "text": "t", "type": "points", "max_points": "0"}
    english = client.post(f"{url}?lang=en", data={"csrf_token": token, "action": "save", **typed})
    form = _item_forms(english.get_data(as_text=True))[-1]
    said = _field_label(form, "max_points").text_content()
    assert "Please enter maximum points greater than 0." in said
    assert "max_points" not in form.text_content()
    assert _stored(draft.id) == ["attitude", "chan", "pts"]


def _many_items(n: int = 9) -> Questionnaire:
    items = [{"code": f"k{i}", "text": f"第{i}个问题", "type": "satisfaction5"} for i in range(n)]
    draft = qdomain.create_draft({"code": "LONG", "title": "长问卷", "items": items})
    db.session.commit()
    return draft


def test_each_builder_action_lands_at_the_card_it_concerns(app, client):
    """QA D5: after any builder action the page opened at its top, on a phone 5,000 px
    from the result. Each card has an id; a redirect carries it as the fragment, with the
    result said in that card, and each form posts to its card's fragment (for a refusal)."""
    make_staff("adm")
    login(client, "adm")
    draft = _many_items()
    url = f"/admin/questionnaires/{draft.id}/build"
    html = client.get(url).get_data(as_text=True)
    forms = _item_forms(html)
    assert [f.get("id") for f in forms] == [f"item-{n}" for n in range(1, 10)] + ["item-new"]
    assert forms[4].get("action") == f"{url}#item-5"

    def landed(resp, card: str, said: str) -> None:
        assert resp.status_code == 303 and resp.location.endswith(f"{url}#{card}"), resp.location
        import lxml.html

        shown = lxml.html.fromstring(client.get(url).get_data(as_text=True))
        assert said in shown.get_element_by_id(card).text_content()
        assert not shown.xpath('//main/p[@class="flash"]')  # not (only) at the top

    landed(_click(client, url, 4, "save", text="改"), "item-5", "已保存。")
    landed(_click(client, url, 4, "up"), "item-4", "已将第 5 题上移。")
    landed(_click(client, url, 4, "down"), "item-6", "已将第 5 题下移。")
    landed(_click(client, url, 9, "save", code="added", text="新题"), "item-10", "已保存。")
    landed(_click(client, url, 9, "remove", sure="1"), "item-9", "已删除第 10 题。")
    landed(_click(client, url, 2, "remove", sure="1"), "item-3", "已删除第 3 题。")
    other = _three_items()
    token = hidden_fields(html)["csrf_token"]
    copied = client.post(url, data={"csrf_token": token, "action": "copy",
                                    "source": str(other.id), "codes": ["chan", "pts"]})  # fmt: skip
    landed(copied, "item-9", "已复制 2 道题。")
    texts = client.post(url, data={"csrf_token": token, "action": "texts", "title": "新标题"})
    landed(texts, "texts", "已保存。")
    # a refusal is rendered by the card, which the form's action (the page's URL) names
    refused = _click(client, url, 3, "remove")
    assert refused.status_code == 400
    card = _item_forms(refused.get_data(as_text=True))[3]
    assert card.get("action").endswith("#item-4") and "删除前请勾选" in card.text_content()


@pytest.mark.browser
def test_a_refused_remove_is_in_view_on_a_phone(app, live_server, page):  # noqa: F811
    """QA D5 in Chromium at 360 px: the refusal of a remove without the tick, and the result
    of a move, are on the screen when the page comes back, not at its top."""
    make_staff("adm")
    draft = _many_items()
    _sign_in(page, live_server)
    page.goto(f"{live_server}/admin/questionnaires/{draft.id}/build")
    card = page.locator("#item-7")
    with page.expect_navigation():
        card.get_by_role("button", name="删除此题", exact=True).click()
    error = page.locator("#item-7 .err", has_text="删除前请勾选")
    assert page.evaluate("window.scrollY") > 2000  # the page is long: not at its top
    assert error.evaluate(
        "e => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight }"
    )
    with page.expect_navigation():
        page.locator("#item-7").get_by_role("button", name="↑ 上移", exact=True).click()
    note = page.locator("#item-6 [role=status]", has_text="已将第 7 题上移。")
    assert note.evaluate(
        "e => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight }"
    )
    assert _stored(draft.id)[5] == "k6"


def test_new_refuses_a_code_that_has_a_questionnaire_by_the_code_field(app, client):
    """QA D9: "新建并编辑" with an existing code made a blank RESIDENT@2 titled as typed. It
    is refused by the code field, naming the questionnaire; its page's "new version" (the
    items kept) is how it changes, and stays as it was."""
    import lxml.html

    new = _new_posted(client, "RESIDENT", "随便写的标题")
    old = qdomain.create_draft({**TARGET, "code": "RESIDENT", "title": "居民满意度测评",
                                "title_en": "Residents' satisfaction"})  # fmt: skip
    db.session.commit()
    for lang, said in [
        ("zh", "编码 RESIDENT 已有问卷（居民满意度测评）；要修改它，请在该问卷页面新建版本。"),
        ("en", "The code RESIDENT already has a questionnaire (Residents' satisfaction); to "
               "change it, make a new version on that questionnaire's page."),
    ]:  # fmt: skip
        resp = client.post(f"/admin/questionnaires?lang={lang}", data={**new, "code": " RESIDENT"})
        shown = lxml.html.fromstring(resp.get_data(as_text=True))
        code = shown.xpath('//label[.//input[@name="code"]]')[0]
        assert resp.status_code == 400 and said in code.text_content(), lang
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Questionnaire)) == 1
    # the questionnaire's own "new version" still copies it, items and all
    made = client.post(f"/admin/questionnaires/{old.id}/new-version",
                       data={"csrf_token": new["csrf_token"]})  # fmt: skip
    assert made.status_code == 302
    copy = db.session.scalar(select(Questionnaire).where(Questionnaire.version == 2))
    assert copy.code == "RESIDENT" and len(copy.items) == 3
    # the placeholder is no code the demo uses
    html = client.get("/admin/questionnaires").get_data(as_text=True)
    placeholder = lxml.html.fromstring(html).xpath('//input[@name="code"]')[0].get("placeholder")
    from evalsurvey import demo

    assert placeholder and placeholder not in repr(vars(demo))
