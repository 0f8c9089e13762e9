"""Decoding uploaded text files whatever Excel saved them as, in bounded memory.

Recruiters' CSVs come from Excel: "CSV UTF-8" (UTF-8 with a BOM), "Unicode Text" (UTF-16 with a
BOM), or plain "CSV" in the Windows code page (Windows-1252 for Western Europe and the US). The
bytes arrive as a stream of chunks and are decoded incrementally; nothing holds the whole file.

How the encoding is chosen, deterministically:
- a BOM names it (UTF-8, UTF-16 LE/BE);
- otherwise ASCII reads the same in every candidate, so the choice waits for the first non-ASCII
  byte, wherever it is in the file, and is made on a bounded window starting there: valid UTF-8
  means UTF-8; else charset-normalizer, restricted to Windows-1252, must find that reading
  coherent (an unrestricted guess calls short French text "cp1250" and would corrupt it). Text in
  any other code page (Cyrillic, Central European...) is refused, naming what it looks like.

A wrong guess must never corrupt text silently. After the choice every byte is decoded strictly:
a sequence that is invalid for the chosen encoding, or UTF-8 bytes inside a Windows-1252 file (the
classic "Ã©" for "é"), refuses the whole file at the physical line where it occurs.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Generator, Iterable, Iterator

from charset_normalizer import from_bytes

from services.core.errors import UserError

# How much text, from the first non-ASCII byte on, decides the encoding.
DETECT_BYTES = 64 * 1024
# A physical line longer than every field of a maximal row together is not CSV text.
MAX_LINE_CHARS = 8 * 1024 * 1024
BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-16-le": "UTF-16",
    "utf-16-be": "UTF-16",
    "cp1252": "Windows-1252",
}
NON_ASCII = re.compile(rb"[\x80-\xff]")
# UTF-8 for U+0080..U+00FF (accented Latin letters) read as Windows-1252: "Ã©", "Ã¼", "Â°".
UTF8_IN_CP1252 = re.compile(rb"[\xc2\xc3][\x80-\xbf]")
LINE_BREAK = re.compile(r"\r\n|\r|\n")
CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")


class DecodeFailure(UserError):
    """The text cannot be decoded; `line` is the 1-based physical line where it failed."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class _Lines:
    """Complete physical lines (line break kept) from decoded text pieces; counts them."""

    def __init__(self) -> None:
        self._partial = ""
        self.emitted = 0  # lines handed out so far

    @property
    def current(self) -> int:
        """The 1-based number of the line being read now."""
        return self.emitted + 1

    def feed(self, text: str) -> list[str]:
        if not text:
            return []
        data = self._partial + text
        lone_crs = data.count("\r") - data.count("\r\n") - data.endswith("\r")
        if not lone_crs:  # LF or CRLF line breaks: the fast path
            *complete, self._partial = data.split("\n")
            lines = [line + "\n" for line in complete]
        else:  # classic Mac CR line breaks too
            lines = []
            start = 0
            for match in LINE_BREAK.finditer(data):
                if match.group() == "\r" and match.end() == len(data):
                    break  # a CR at the end may be the first half of CRLF: wait for more text
                lines.append(data[start : match.end()])
                start = match.end()
            self._partial = data[start:]
        if len(self._partial) > MAX_LINE_CHARS:
            raise DecodeFailure(
                self.current + len(lines),
                f"a line longer than {MAX_LINE_CHARS:,} characters (this is not CSV text)",
            )
        self.emitted += len(lines)
        return lines

    def finish(self) -> list[str]:
        rest, self._partial = self._partial, ""
        if rest:
            self.emitted += 1
            return [rest]
        return []


class _Refused(ValueError):
    """Raised inside the decoder; turned into a DecodeFailure with the current line."""


def _choose(window: bytes, at_eof: bool) -> str:
    """The encoding of text whose first non-ASCII byte starts `window`."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(window, final=at_eof)
    except UnicodeDecodeError as exc:
        if exc.start > 0:
            # The first non-ASCII bytes are a valid UTF-8 sequence: the file is UTF-8 and the
            # bad bytes further on are refused at their own line by the strict decoder.
            return "utf-8"
    else:
        return "utf-8"
    # Judge Windows-1252 on the text before any byte it does not define: such a byte further on
    # is refused at its own line by the strict decoder, not blamed on the whole window.
    undefined = CP1252_UNDEFINED.search(window)
    sample = window[: undefined.start()] if undefined else window
    if sample and from_bytes(sample, cp_isolation=["cp1252"]).best() is not None:
        return "cp1252"
    best = from_bytes(window).best()
    # Name a guess only when it is a code page: UTF-16/32 without a BOM is noise here.
    named = best is not None and not best.encoding.startswith("utf")
    looks = f" (it looks like {best.encoding} text)" if best is not None and named else ""
    raise _Refused(
        "the text is neither UTF-8 nor Windows-1252" + looks + "; save it as CSV UTF-8 in Excel"
    )


class _Decoder:
    """Incremental strict decoding with the checks that keep a wrong guess from passing.

    decode() returns the complete lines decoded so far and, when the data goes bad, the failure:
    the good lines before it are still handed on, so a reader counts its records right.
    """

    def __init__(self, encoding: str, lines: _Lines) -> None:
        self.encoding = encoding
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        self._lines = lines
        self._last_byte = b""

    def decode(self, data: bytes, final: bool = False) -> tuple[list[str], DecodeFailure | None]:
        if self.encoding == "cp1252" and data:
            # Look across the chunk boundary too: the pair may straddle it.
            joined = self._last_byte + data
            found = UTF8_IN_CP1252.search(joined)
            if found is not None:
                cut = max(found.start() - len(self._last_byte), 0)
                good = self._lines.feed(data[:cut].decode("cp1252", errors="replace"))
                return good, DecodeFailure(
                    self._lines.current,
                    "UTF-8 text inside a Windows-1252 file (like 'Ã©' for 'é'); save the whole "
                    "file as CSV UTF-8 in Excel",
                )
            self._last_byte = data[-1:]
        try:
            text = self._decoder.decode(data, final=final)
        except UnicodeDecodeError as exc:
            before = bytes(exc.object[: exc.start]).decode(self.encoding, errors="replace")
            good = self._lines.feed(before)
            name = ENCODING_NAMES.get(self.encoding, self.encoding)
            return good, DecodeFailure(
                self._lines.current,
                f"bytes that are not valid {name} text, though the file reads as {name} "
                "before them; save it again as CSV UTF-8 in Excel",
            )
        return self._lines.feed(text), None


def _bom(head: bytes) -> tuple[str | None, int]:
    for mark, encoding in BOMS:
        if head.startswith(mark):
            return encoding, len(mark)
    return None, 0


class DecodedText:
    """The physical lines (line breaks kept) of a text file given as byte chunks.

    Iterate once. `encoding` says what the file was read as: set from the BOM or at the first
    non-ASCII byte; "ascii" for a file without any. With detect=False a file without a BOM is
    read as UTF-8. Iteration raises DecodeFailure naming the
    physical line of the first byte that cannot be decoded, after handing out the lines before.
    """

    def __init__(self, chunks: Iterable[bytes], detect: bool = True) -> None:
        self._stream = iter(chunks)
        self._lines = _Lines()
        self._detect = detect  # False: UTF-8 (or a UTF-16 BOM) only, as strict readers want
        self.encoding: str | None = None

    @property
    def lines_read(self) -> int:
        return self._lines.emitted

    def _next_chunk(self) -> bytes | None:
        return next(self._stream, None)

    def __iter__(self) -> Iterator[str]:
        lines = self._lines
        pending = self._after_bom()
        decoder = _Decoder(self.encoding, lines) if self.encoding else None
        eof = False
        while True:
            if decoder is None and pending:
                pending, eof = yield from self._ascii_then_detect(pending, eof)
                if self.encoding is not None:
                    decoder = _Decoder(self.encoding, lines)
            if decoder is not None and (pending or eof):
                good, failure = decoder.decode(pending, final=eof)
                yield from good
                if failure is not None:
                    raise failure
                pending = b""
            if eof:
                break
            chunk = self._next_chunk()
            eof = chunk is None
            pending = chunk or b""
        if self.encoding is None:
            self.encoding = "ascii"
        yield from lines.finish()

    def _after_bom(self) -> bytes:
        """The first bytes past any BOM; the BOM (or detect=False) sets the encoding."""
        pending = b""
        while len(pending) < 3:  # a BOM is at most 3 bytes, and chunks may be tiny
            chunk = self._next_chunk()
            if chunk is None:
                break
            pending += chunk
        self.encoding, skip = _bom(pending)
        if self.encoding is None and not self._detect:
            self.encoding = "utf-8"
        return pending[skip:]

    def _ascii_then_detect(
        self, pending: bytes, eof: bool
    ) -> Generator[str, None, tuple[bytes, bool]]:
        """Hand out the lines before the first non-ASCII byte; at that byte, read ahead up to
        DETECT_BYTES and choose the encoding. Returns what is left to decode, and whether the
        file has ended."""
        lines = self._lines
        found = NON_ASCII.search(pending)
        if found is None:
            yield from lines.feed(pending.decode("ascii"))
            return b"", eof
        yield from lines.feed(pending[: found.start()].decode("ascii"))
        pending = pending[found.start() :]
        while len(pending) < DETECT_BYTES and not eof:
            chunk = self._next_chunk()
            eof = chunk is None
            pending += chunk or b""
        try:
            self.encoding = _choose(pending[:DETECT_BYTES], eof)
        except _Refused as exc:
            raise DecodeFailure(lines.current, str(exc)) from exc
        return pending, eof
