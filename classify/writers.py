"""Output writers. Everything the project writes goes through an atomic write: a temporary file
in the target directory, fsync, then rename, so a crash never leaves a half-written file.

Large outputs are streamed: :func:`open_table` returns a writer that takes one row at a time
(CSV, JSON Lines or Parquet, chosen by the file extension) and only replaces the target when
:meth:`TableWriter.commit` is called; :class:`JsonListWriter` streams a JSON list (Label Studio
tasks) the same way. Memory stays bounded by one row (CSV, JSONL) or one row group (Parquet).
"""

from __future__ import annotations

import csv
import functools
import io
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from classify.errors import ClassifyError

TABLE_SUFFIXES = (".csv", ".jsonl", ".parquet")

# Column types of a table schema (see :func:`open_table`).
STR, INT, FLOAT, INT_LIST, STR_LIST = "str", "int", "float", "list[int]", "list[str]"
LIST_SEP = ";"
"""How list cells (question numbers, labels) are joined in CSV, where a cell holds one string."""


@functools.lru_cache(maxsize=1)
def _umask_mode() -> int:
    """The mode a plainly created file gets (0o666 less the umask); mkstemp makes 0o600.

    Reading the umask means setting it, so it is read once per process, not on every write
    (serve-ml writes from several threads)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _umask_mode())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def table_format(path: str | Path) -> str:
    """``csv``, ``jsonl`` or ``parquet`` from the extension; a ClassifyError names the fix otherwise."""
    suffix = Path(path).suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise ClassifyError(f"{path}: unsupported output format {suffix or '(no extension)'!r}; "
                            f"use a file name ending in {', '.join(TABLE_SUFFIXES)}")
    return suffix[1:]


class _AtomicFile:
    """A temporary file beside ``path`` that replaces ``path`` on :meth:`commit` and vanishes on
    :meth:`abort` (also when the process dies: then only a hidden ``.name.*.tmp`` file is left)."""

    def __init__(self, path: str | Path, mode: str = "w", newline: str | None = None):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, self.tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        if "b" in mode:
            self.fh = os.fdopen(fd, mode)
        else:
            self.fh = os.fdopen(fd, mode, encoding="utf-8", newline=newline)
        self.closed = False

    def commit(self) -> None:
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        os.chmod(self.tmp, _umask_mode())
        os.replace(self.tmp, self.path)
        self.closed = True

    def abort(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self.fh.close()
        finally:
            try:
                os.unlink(self.tmp)
            except FileNotFoundError:
                pass


class TableWriter:
    """Streams rows (dicts keyed by column name) into a table file; see :func:`open_table`."""

    def __init__(self, path: str | Path, columns: Sequence[tuple[str, str]]):
        self.path = Path(path)
        self.columns = list(columns)
        self.names = [c for c, _ in self.columns]
        self.n_rows = 0

    def write(self, row: Mapping) -> None:
        raise NotImplementedError

    def write_encoded(self, text: str, n_rows: int) -> None:
        """Add ``n_rows`` rows encoded by :func:`row_encoder` (text formats only)."""
        self._file.fh.write(text)
        self.n_rows += n_rows

    def commit(self) -> None:
        """Finish the file and move it into place."""
        raise NotImplementedError

    def abort(self) -> None:
        """Drop what was written; the target file is left as it was."""
        raise NotImplementedError

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


class CsvWriter(TableWriter):
    """CSV with a header row, UTF-8 with a byte-order mark (so spreadsheet programs detect the
    encoding); list cells are joined with ``;``, missing values are empty cells."""

    def __init__(self, path, columns):
        super().__init__(path, columns)
        self._file = _AtomicFile(self.path, "w", newline="")
        self._file.fh.write("\ufeff")
        self._csv = csv.writer(self._file.fh)
        self._csv.writerow(self.names)
        self._list_cols = [i for i, (_, k) in enumerate(self.columns) if k in (INT_LIST, STR_LIST)]

    def write(self, row):
        self._csv.writerow(_csv_cells(row, self.names, self._list_cols))
        self.n_rows += 1

    def commit(self):
        self._file.commit()

    def abort(self):
        self._file.abort()


def _csv_cells(row: Mapping, names: Sequence[str], list_cols: Sequence[int]) -> list:
    cells = [row.get(c) for c in names]  # the csv module writes None as an empty cell
    for i in list_cols:
        if cells[i] is not None:
            cells[i] = LIST_SEP.join(map(str, cells[i]))
    return cells


def _encode_csv(names: Sequence[str], list_cols: Sequence[int], rows: Sequence[Mapping]) -> str:
    buf = io.StringIO(newline="")
    csv.writer(buf).writerows(_csv_cells(r, names, list_cols) for r in rows)
    return buf.getvalue()


def _encode_jsonl(names: Sequence[str], rows: Sequence[Mapping]) -> str:
    return "".join(json.dumps({c: r.get(c) for c in names}, ensure_ascii=False) + "\n" for r in rows)


def row_encoder(path: str | Path, columns: Sequence[tuple[str, str]]):
    """For a text table (CSV, JSON Lines): a picklable function turning rows into exactly the
    text that ``open_table(path, columns).write`` adds for them, so rows can be encoded where
    they are made (in worker processes) and added with :meth:`TableWriter.write_encoded`.
    None for Parquet."""
    fmt = table_format(path)
    names = [c for c, _ in columns]
    if fmt == "csv":
        return functools.partial(_encode_csv, names, [i for i, (_, k) in enumerate(columns)
                                                      if k in (INT_LIST, STR_LIST)])
    if fmt == "jsonl":
        return functools.partial(_encode_jsonl, names)
    return None


class JsonlWriter(TableWriter):
    """One JSON object per line, columns in schema order, lists as JSON arrays."""

    def __init__(self, path, columns):
        super().__init__(path, columns)
        self._file = _AtomicFile(self.path, "w", newline="\n")

    def write(self, row):
        self._file.fh.write(_encode_jsonl(self.names, [row]))
        self.n_rows += 1

    def commit(self):
        self._file.commit()

    def abort(self):
        self._file.abort()


class ParquetWriter(TableWriter):
    """Parquet written in row groups of ``row_group_size`` rows with a fixed schema (lists as
    Parquet lists), so memory holds at most one row group."""

    def __init__(self, path, columns, row_group_size: int = 5000):
        super().__init__(path, columns)
        import pyarrow as pa
        import pyarrow.parquet as pq

        self._pa = pa
        types = {STR: pa.string(), INT: pa.int64(), FLOAT: pa.float64(),
                 INT_LIST: pa.list_(pa.int64()), STR_LIST: pa.list_(pa.string())}
        self.schema = pa.schema([(c, types[k]) for c, k in self.columns])
        self.row_group_size = row_group_size
        self._buffer: dict[str, list] = {c: [] for c in self.names}
        self._file = _AtomicFile(self.path, "wb")
        self._writer = pq.ParquetWriter(self._file.fh, self.schema, compression="zstd")

    def write(self, row):
        for c in self.names:
            self._buffer[c].append(row.get(c))
        self.n_rows += 1
        if len(self._buffer[self.names[0]]) >= self.row_group_size:
            self._flush()

    def write_encoded(self, text, n_rows):
        raise TypeError("Parquet rows cannot be added as text; use write()")

    def _flush(self):
        if not self._buffer[self.names[0]]:
            return
        table = self._pa.Table.from_pydict(self._buffer, schema=self.schema)
        self._writer.write_table(table)
        self._buffer = {c: [] for c in self.names}

    def commit(self):
        self._flush()
        self._writer.close()
        self._file.commit()

    def abort(self):
        try:
            self._writer.close()
        except Exception:  # noqa: BLE001 - the file is being thrown away anyway
            pass
        self._file.abort()


def open_table(path: str | Path, columns: Sequence[tuple[str, str]]) -> TableWriter:
    """A streaming writer for ``path`` in the format its extension names.

    ``columns``: ``(name, type)`` pairs, type one of ``str``, ``int``, ``float``, ``list[int]``,
    ``list[str]``. Nothing appears at ``path`` until :meth:`TableWriter.commit`.
    """
    fmt = table_format(path)
    cls = {"csv": CsvWriter, "jsonl": JsonlWriter, "parquet": ParquetWriter}[fmt]
    return cls(path, columns)


class JsonListWriter:
    """Streams a JSON list (one item per line between ``[`` and ``]``), committed atomically."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._file = _AtomicFile(self.path, "w", newline="\n")
        self._file.fh.write("[")
        self.n_items = 0

    def write(self, item) -> None:
        self.write_encoded([json.dumps(item, ensure_ascii=False)])

    @staticmethod
    def encode(items) -> list[str]:
        """Items as :meth:`write_encoded` takes them (to encode them where they are made)."""
        return [json.dumps(item, ensure_ascii=False) for item in items]

    def write_encoded(self, encoded: Sequence[str]) -> None:
        for text in encoded:
            self._file.fh.write(("\n" if self.n_items == 0 else ",\n") + text)
            self.n_items += 1

    def commit(self) -> None:
        self._file.fh.write("\n]\n")
        self._file.commit()

    def abort(self) -> None:
        self._file.abort()


def write_jsonl(path: str | Path, rows) -> int:
    """Write an iterable of dicts as JSON Lines, atomically; returns the number of rows."""
    f = _AtomicFile(path, "w", newline="\n")
    n = 0
    try:
        for r in rows:
            f.fh.write(json.dumps(r, ensure_ascii=False) + "\n")
            n += 1
    except BaseException:
        f.abort()
        raise
    f.commit()
    return n
