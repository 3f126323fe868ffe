"""A compact console logger: one line per finished step and per user message, instead of Dagster's
DEBUG event stream. `corpus run --verbose` (or the UI's run logs) still show everything."""

import logging
import sys

from dagster import Field, InitLoggerContext, logger

_SHOWN = {"STEP_SUCCESS", "STEP_FAILURE", "ASSET_CHECK_EVALUATION", "RUN_FAILURE"}


class _ProgressHandler(logging.Handler):
    def __init__(self, message_level: int) -> None:
        super().__init__(logging.DEBUG)  # events arrive at DEBUG; plain messages are filtered below
        self.message_level = message_level

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        step = meta.get("step_key") or ""
        if event is not None:
            etype = event.event_type_value
            if etype not in _SHOWN:
                return
            if etype == "STEP_SUCCESS" and "_" in step and step.split("_", 1)[1].startswith(step.split("_", 1)[0]):
                return  # a check's step: its evaluation line says more
            if etype == "STEP_SUCCESS":
                line = f"  ok  {step}"
            elif etype == "ASSET_CHECK_EVALUATION" and "claim_verdicts" in step:
                return  # one check per claim: the run summary gives the verdict counts
            elif etype == "ASSET_CHECK_EVALUATION":
                data = event.event_specific_data
                ok = getattr(getattr(data, "evaluation", data), "passed", None)
                line = f"  {'ok ' if ok else 'WARN'} check {step}"
            else:
                line = f"  FAIL {step}: {meta.get('orig_message') or record.getMessage()}"
        else:
            if record.levelno < self.message_level:
                return
            line = f"      {step}: {meta.get('orig_message') or record.getMessage()}"
        print(line, file=sys.stderr, flush=True)


@logger(
    config_schema={"log_level": Field(str, is_required=False, default_value="INFO")},
    description="One line per step and per message: what `corpus run` prints.",
)
def progress_logger(init_context: InitLoggerContext) -> logging.Logger:
    log = logging.getLogger("corpus.progress")
    log.handlers.clear()
    log.propagate = False
    handler = _ProgressHandler(getattr(logging, str(init_context.logger_config["log_level"]).upper(), logging.INFO))
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    return log
