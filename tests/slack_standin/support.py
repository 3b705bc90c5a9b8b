"""Names shared by the stand-in tests."""

BOT_TOKEN = "xoxb-greenlight-test-token"
SIGNING_SECRET = "greenlight-test-signing-secret"
ALICE = "U0ALICE"
BOB = "U0BOB"
