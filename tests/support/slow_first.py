"""aiosmtpd handler for the alert tests: answers the first message's DATA only after 3 s, later ones at once."""

import asyncio


class SlowFirst:
    def __init__(self):
        self.messages = 0

    async def handle_DATA(self, server, session, envelope):
        self.messages += 1
        if self.messages == 1:
            await asyncio.sleep(3)
        print(f"accepted message {self.messages}", flush=True)
        return "250 OK"
