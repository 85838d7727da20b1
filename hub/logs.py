"""No query string reaches a log line.

Query strings carry search terms, tokens and keys (`?api_key=`), and every library logs
URLs its own way: urllib3 logs each request line and retry, gunicorn and werkzeug their
access lines, exceptions quote the URL they failed on. So the hub cuts the query off every
URL and path in every log record when the record is made, before any handler sees it.
"""

import logging
import re

# A URL (scheme://...) or a path (/...) and the query after it, up to white space or a quote.
URL_WITH_QUERY = re.compile(r"""((?:\b[a-z][a-z0-9+.-]*://|/)[^\s?#"'<>]*)\?[^\s#"'<>]*""",
                            re.IGNORECASE)


def without_query_strings(text: str) -> str:
    return URL_WITH_QUERY.sub(r"\1", text)


def install():
    """Make every log record of this process leave out query strings (idempotent)."""
    make_record = logging.getLogRecordFactory()
    if getattr(make_record, "drops_query_strings", False):
        return

    def record_without_query_strings(*args, **kwargs):
        record = make_record(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:
            # A malformed call is the handler's to report (logging.Handler.handleError).
            message = None
        if message is not None:
            cleaned = without_query_strings(message)
            if cleaned != message:
                record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            # Formatted now, so that every handler shows this cleaned copy.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = without_query_strings(record.exc_text)
        return record

    record_without_query_strings.drops_query_strings = True
    logging.setLogRecordFactory(record_without_query_strings)
