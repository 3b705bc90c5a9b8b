"""Answer Slack the moment a listener acks, instead of bolt's 10 ms poll.

Bolt (with `process_before_response=False`) starts the listener as a task and then checks every
10 ms whether it has called `ack()`: up to 10 ms added to every answer, and a timer per request
under load. Here the ack is an event the request waits on, with the listener's end (a refusal
answered by the error handler, a listener that never acks) as the other way out; what bolt does
otherwise (errors, start and completion handlers, the 3 s limit, lazy listeners) is unchanged.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.listener.async_listener import AsyncListener
from slack_bolt.listener.asyncio_runner import AsyncioListenerRunner
from slack_bolt.logger.messages import warning_did_not_call_ack
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse


class SignallingAck(AsyncAck):
    """bolt's `ack`, which also sets `given` once it has been called."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.given = asyncio.Event()
        self.answer: BoltResponse | None = None
        """What the ack answered (bolt's error path may clear `response` after an ack)."""

    async def __call__(self, *args: Any, **kwargs: Any) -> BoltResponse:
        try:
            self.answer = await super().__call__(*args, **kwargs)
            return self.answer
        finally:
            self.given.set()


class PromptListenerRunner(AsyncioListenerRunner):
    def __init__(self, runner: AsyncioListenerRunner) -> None:
        super().__init__(
            logger=runner.logger,
            process_before_response=runner.process_before_response,
            listener_error_handler=runner.listener_error_handler,
            listener_start_handler=runner.listener_start_handler,
            listener_completion_handler=runner.listener_completion_handler,
            lazy_listener_runner=runner.lazy_listener_runner,
        )
        self._running: set[asyncio.Task[None]] = set()

    async def run(
        self,
        request: AsyncBoltRequest,
        response: BoltResponse,
        listener_name: str,
        listener: AsyncListener,
        starting_time: float | None = None,
    ) -> BoltResponse | None:
        if (
            self.process_before_response
            or request.lazy_only
            or listener.lazy_functions
            or request.context.ack.response is not None
        ):
            return await super().run(request, response, listener_name, listener, starting_time)
        started = starting_time if starting_time is not None else time.time()
        ack = SignallingAck()
        request.context["ack"] = ack
        if listener.auto_acknowledgement:
            await ack()
        task = asyncio.ensure_future(self._listen(ack, request, response, listener))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        given = asyncio.ensure_future(ack.given.wait())
        try:
            left = max(listener.ack_timeout - (time.time() - started), 0.0)
            await asyncio.wait({task, given}, timeout=left, return_when=asyncio.FIRST_COMPLETED)
        finally:
            given.cancel()
        answer = ack.response or ack.answer
        if answer is None:
            self.logger.warning(warning_did_not_call_ack(listener_name))
        return answer

    async def _listen(
        self, ack: AsyncAck, request: AsyncBoltRequest, response: BoltResponse | None, listener: AsyncListener
    ) -> None:
        """The listener, as bolt runs it: a failure before the ack answers 500 through the error handler."""
        try:
            await self.listener_start_handler.handle(request=request, response=response)
            await listener.run_ack_function(request=request, response=response)  # type: ignore[arg-type]
        except Exception as error:
            if response is None:
                response = BoltResponse(status=500)
            response.status = 500
            if ack.response is not None:  # already answered: the error is only reported
                response = None
            await self.listener_error_handler.handle(error=error, request=request, response=response)
            ack.response = response
        finally:
            await self.listener_completion_handler.handle(request=request, response=response)


def prompt_acks(app: AsyncApp) -> None:
    """Give APP the runner above (bolt has no public setter for it; the attribute is its own)."""
    app._async_listener_runner = PromptListenerRunner(app.listener_runner)
