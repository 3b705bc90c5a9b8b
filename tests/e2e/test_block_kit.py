"""The sandbox renders the Block Kit it is sent faithfully, and never as markup."""

from __future__ import annotations

from .conftest import BROWSER_TESTS, Phone

pytestmark = BROWSER_TESTS

HOSTILE = '<img src=x onerror="window.pwned=1"><script>window.pwned=1</script>'
MRKDWN = (
    "*bold* _italic_ ~struck~ `code` <https://example.com/q?a=1&amp;b=2|a link> "
    "<javascript:window.pwned=1|not a link> <@U05AB3R8AEN> &lt;script&gt;window.pwned=1&lt;/script&gt;\n"
    "• first item\n• second item\n&gt; a quoted line"
)
BLOCKS = [
    {"type": "header", "text": {"type": "plain_text", "text": "Header & <b>not bold</b>"}},
    {
        "type": "section",
        "block_id": "t.text",
        "text": {"type": "mrkdwn", "text": MRKDWN},
        "accessory": {
            "type": "overflow",
            "action_id": "t.overflow",
            "options": [{"text": {"type": "plain_text", "text": "Snooze"}, "value": "snooze"}],
        },
    },
    {
        "type": "section",
        "block_id": "t.fields",
        "fields": [
            {"type": "mrkdwn", "text": "*Customer*\nAcme &amp; Sons"},
            {"type": "mrkdwn", "text": "*Total*\nUSD 10,000"},
        ],
    },
    {"type": "divider"},
    {
        "type": "context",
        "elements": [
            {"type": "mrkdwn", "text": "a _context_ line"},
            {"type": "image", "image_url": "https://example.com/logo.png", "alt_text": "logo"},
        ],
    },
    {
        "type": "actions",
        "block_id": "t.actions",
        "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "Go"}, "action_id": "t.go", "style": "primary"},
            {
                "type": "static_select",
                "action_id": "t.select",
                "placeholder": {"type": "plain_text", "text": "Pick a plan"},
                "options": [{"text": {"type": "plain_text", "text": "Gold <plan>"}, "value": "gold"}],
            },
            {"type": "users_select", "action_id": "t.user", "placeholder": {"type": "plain_text", "text": "Someone"}},
            {"type": "datepicker", "action_id": "t.date", "initial_date": "2026-12-01"},
        ],
    },
    {"type": "future_block_kind"},
]


async def test_blocks_render_as_slack_lays_them_out_and_nothing_becomes_markup(phone: Phone) -> None:
    page, expect, demo = phone.page, phone.expect, phone.demo
    await demo.runtime.client.chat_postMessage(channel="U05AB3R8AEN", text=HOSTILE, blocks=BLOCKS)
    await phone.act_as("ava")
    message = phone.message("Header &")

    await expect(message.get_by_role("heading", name="Header & <b>not bold</b>")).to_be_visible()
    text = message.locator('[data-block-id="t.text"]')
    await expect(text.locator("strong")).to_have_text("bold")
    await expect(text.locator("em")).to_have_text("italic")
    await expect(text.locator("s")).to_have_text("struck")
    await expect(text.locator("code")).to_have_text("code")
    await expect(text.get_by_role("link", name="a link")).to_have_attribute("href", "https://example.com/q?a=1&b=2")
    await expect(text.get_by_role("link", name="not a link")).to_have_count(0)
    await expect(text).to_contain_text("<javascript:window.pwned=1|not a link>")
    await expect(text).to_contain_text("@Ava Brooks")
    await expect(text).to_contain_text("<script>window.pwned=1</script>")
    await expect(text).to_contain_text("• second item")
    await expect(text.locator("blockquote")).to_have_text("a quoted line")
    await expect(message.locator('[data-block-id="t.fields"] .bk-field')).to_have_count(2)
    await expect(message.locator('[data-block-id="t.fields"]')).to_contain_text("Acme & Sons")
    await expect(message.get_by_role("img", name="logo")).to_be_visible()
    await expect(message.locator("hr")).to_have_count(1)
    await expect(message.get_by_text("Unsupported block: future_block_kind")).to_be_visible()

    actions = message.locator('[data-block-id="t.actions"]')
    await expect(actions.get_by_role("button", name="Go")).to_be_visible()
    await expect(actions.get_by_role("combobox", name="Pick a plan")).to_contain_text("Gold <plan>")
    await expect(actions.get_by_role("combobox", name="Someone")).to_contain_text("Marco Bellini")
    await expect(actions.locator("input[type=date]")).to_have_value("2026-12-01")
    await text.get_by_role("button", name="More actions").click()
    await expect(text.get_by_role("menuitem", name="Snooze")).to_be_visible()

    assert await page.evaluate("window.pwned") is None
    await expect(page.locator("#stream script, #stream img, #stream iframe")).to_have_count(0)
    await phone.fits()
    await phone.shot("block-kit.png", top=message)

    # The bot has no listener for this button: the sandbox says what the app answered.
    await actions.get_by_role("button", name="Go").click()
    await expect(page.get_by_role("status")).to_contain_text("the app answered 404")

    # A modal from App Home: date pickers and a person picker; the app's field errors show in place.
    await phone.tab("Home")
    await page.get_by_role("button", name="Set out of office").click()
    dialog = page.get_by_role("dialog", name="Out of office")
    await dialog.get_by_label("First day away").fill("2026-12-10")
    await dialog.get_by_label("Last day away").fill("2026-12-08")
    await dialog.get_by_label("Delegate").select_option(label="Ben Okafor")
    await dialog.get_by_role("button", name="Save").click()
    await expect(dialog.get_by_role("alert").filter(has_text="The last day is before the first day")).to_be_visible()
    await dialog.get_by_label("Last day away").fill("2026-12-18")
    await dialog.get_by_role("button", name="Save").click()
    await expect(dialog).to_be_hidden()
    await expect(page.locator("#home")).to_contain_text("out of office from 10 Dec 2026 to 18 Dec 2026: Ben Okafor")
