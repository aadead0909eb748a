"""A new kind of record is five files (app/kinds/__init__.py says which): this test adds a throwaway kind,
``terms``, to a copy of the package in exactly those files and checks that, with nothing else touched, it
is loaded, served under /v1 (list, detail, OpenAPI), searched, read back by the exporter and checked by the
content checker. Its migration is stood in for by ``create_all`` of its two tables.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import typing
from pathlib import Path

from pydantic import BaseModel

from app.content.rows import KINDS_IN_LOAD_ORDER, REFERENCES, item_model

ROOT = Path(__file__).resolve().parents[2]

#: The files a new kind touches besides its tests and migration (relative to the package), and what each holds.
NEW_KIND_FILES = {
    "kinds/terms.py": '''
        """Glossary terms (a throwaway kind of tests/kinds/test_new_kind.py)."""

        from __future__ import annotations

        from sqlalchemy import select
        from sqlmodel import Session, col

        from app.kinds.base import Kind, Nested, Record, Records, SearchSource, lines, slug_field, text_field
        from app.models.term import Term, TermSource
        from app.schemas import terms as schemas
        from app.services.embeds import bookkeeping, group_by


        def represent(session: Session) -> list[Record]:
            rows = session.scalars(select(Term).order_by(col(Term.slug))).all()
            cited = group_by(session.scalars(select(TermSource).order_by(col(TermSource.ordinal))), "term_id")
            return [
                {
                    "slug": t.slug,
                    "name": t.name,
                    "source_count": len(cited.get(t.id or 0, [])),
                    "clinical_summary": t.clinical_summary,
                    "plain_summary": t.plain_summary,
                    **bookkeeping(t),
                }
                for t in rows
            ]


        def search_source(t: Record, _records: Records) -> SearchSource:
            return SearchSource("terms", t["slug"], t["name"], (t["name"],), (), lines(t["clinical_summary"]))


        KIND = Kind(
            name="terms",
            order=80,
            singular="term",
            table=Term,
            content_record="TermRecord",
            nested=(Nested("sources", TermSource),),
            record_model=schemas.Term,
            list_model=schemas.TermList,
            response_model=schemas.TermResponse,
            tag_description="Glossary terms.",
            list_summary="List glossary terms",
            list_description="Every glossary term.",
            get_summary="Get a glossary term",
            get_description="One glossary term by slug.",
            represent=represent,
            search_source=search_source,
            sort_fields=(slug_field(), text_field("name")),
        )
    ''',
    "models/term.py": '''
        """Glossary terms and the sources that define them."""

        from __future__ import annotations

        from sqlmodel import Field, SQLModel

        from app.models.common import RecordBase, SummariesMixin


        class Term(RecordBase, SummariesMixin, table=True):
            drug_id: int = Field(foreign_key="drug.id", index=True, ondelete="CASCADE")
            name: str = Field(max_length=80)


        class TermSource(SQLModel, table=True):
            __tablename__ = "term_source"

            id: int | None = Field(default=None, primary_key=True)
            term_id: int = Field(foreign_key="term.id", index=True, ondelete="CASCADE")
            source_id: int = Field(foreign_key="source.id", index=True, ondelete="RESTRICT")
            quote: str | None = None
            ordinal: int = 0
    ''',
    "schemas/terms.py": '''
        """Public shapes of /v1/terms."""

        from __future__ import annotations

        from pydantic import Field

        from app.schemas.common import Recorded, Summaries, envelopes, record_examples


        class Term(Recorded, Summaries):
            """A glossary term."""

            model_config = record_examples("term")

            slug: str = Field(description="Stable identifier.")
            name: str = Field(description="The term.")
            source_count: int = Field(description="How many sources define it.")


        TermListItem, TermList, TermResponse = envelopes(Term, "term", "terms")
    ''',
    "content/data/terms.yaml": """
        - slug: opioid-blockade
          drug: naltrexone
          name: Opioid blockade
          sources:
          - source: younger-2014
          clinical_summary: Throwaway text of a test kind.
          plain_summary: Throwaway text of a test kind.
    """,
}

#: The fifth file, app/content/schema.py: the content record class and its list on the Dataset.
CONTENT_RECORD = """

class TermRecord(_Strict):
    slug: Slug
    drug: Slug
    name: Text
    sources: list[CitedSource] = Field(min_length=1)
    clinical_summary: Text
    plain_summary: Text
"""
DATASET_FIELD = "    indications: list[IndicationRecord]\n"

CHECK = """
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlmodel import Session, SQLModel

from app import migrate
from app.content.check import check_folder
from app.content.exporter import export_dataset
from app.content.files import read_dataset
from app.db import make_engine
from app.main import create_app
from app.models.term import Term, TermSource
from app.settings import Settings

url = "sqlite:///store.sqlite3"
engine = create_engine(url)
migrate.upgrade(engine)
SQLModel.metadata.create_all(engine, tables=[Term.__table__, TermSource.__table__])  # its migration
engine.dispose()

with TestClient(create_app(Settings(database_url=url, content_check_interval=0))) as client:
    listed = client.get("/v1/terms").json()
    assert [t["slug"] for t in listed["data"]] == ["opioid-blockade"], listed
    one = client.get("/v1/terms/opioid-blockade").json()["data"]
    assert (one["name"], one["source_count"]) == ("Opioid blockade", 1), one
    assert client.get("/v1/terms/no-such-term").status_code == 404
    assert client.get("/v1/terms", params={"sort": "-name"}).status_code == 200
    assert client.get("/v1/terms", params={"colour": "red"}).status_code == 400
    operations = {
        op["operationId"] for path in client.get("/openapi.json").json()["paths"].values() for op in path.values()
    }
    assert {"listTerms", "getTerm"} <= operations, sorted(operations)
    hits = client.get("/v1/search", params={"q": "opioid blockade"}).json()["data"]
    assert any(h["kind"] == "terms" and h["slug"] == "opioid-blockade" for h in hits), hits

with Session(make_engine(Settings(database_url=url))) as session:
    assert export_dataset(session) == read_dataset()
    # the store's own search table (for what reads the file itself) holds it too
    stored = session.execute(text("SELECT slug FROM search_document WHERE kind = 'terms'")).scalars().all()
    assert stored == ["opioid-blockade"], stored
"""


def _new_kind_in(copy: Path) -> list[str]:
    """Add the throwaway kind to ``copy`` (a copy of app/); return the files touched."""
    for name, text in NEW_KIND_FILES.items():
        (copy / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    schema = copy / "content" / "schema.py"
    text = schema.read_text(encoding="utf-8")
    assert DATASET_FIELD in text
    text = text.replace(DATASET_FIELD, DATASET_FIELD + "    terms: list[TermRecord]\n")
    text = text.replace("\n\nclass Dataset(", CONTENT_RECORD + "\n\nclass Dataset(")
    schema.write_text(text, encoding="utf-8")
    return [*NEW_KIND_FILES, "content/schema.py"]


def test_a_new_kind_is_five_files(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "app", tmp_path / "app", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "migrations", tmp_path / "migrations", ignore=shutil.ignore_patterns("__pycache__"))
    touched = _new_kind_in(tmp_path / "app")
    assert len(touched) <= 5
    bad = tmp_path / "bad"
    shutil.copytree(tmp_path / "app" / "content" / "data", bad)
    (bad / "terms.yaml").write_text(
        (bad / "terms.yaml").read_text(encoding="utf-8").replace("younger-2014", "no-such-source"), encoding="utf-8"
    )
    script = CHECK + f"\nproblems = [str(p) for p in check_folder(__import__('pathlib').Path({str(bad)!r}))]\n"
    script += "assert len(problems) == 1 and \"unknown source 'no-such-source'\" in problems[0], problems\n"
    script += "assert check_folder(__import__('pathlib').Path('app/content/data')) == []\n"
    # The copy comes first on the path, before the editable install of the checkout.
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-4000:]


def _bare(annotation: object) -> object:
    """``str`` for ``Annotated[str, ...]`` (a Slug), the annotation itself otherwise."""
    return typing.get_args(annotation)[0] if typing.get_origin(annotation) is typing.Annotated else annotation


def test_a_field_named_as_a_kind_is_a_reference_to_it() -> None:
    """The loader and exporter read a field named as a kind's singular (``drug``, ``source``) as a slug of that
    kind stored as ``<field>_id``: no content record may use such a name for anything else (a kind ``notes``
    would clash with the sources' ``note``), and every such field's table has the id column."""
    for kind in KINDS_IN_LOAD_ORDER:
        tables: list[tuple[type[BaseModel], type[object]]] = [(kind.content_record_class, kind.table)]
        tables += [(item_model(kind.content_record_class, n.name), n.table) for n in kind.nested]
        for record, table in tables:
            for name, info in record.model_fields.items():
                if name not in REFERENCES:
                    continue
                types = {_bare(t) for t in typing.get_args(info.annotation) or (info.annotation,)}
                assert types <= {str, type(None)}, (kind.name, record.__name__, name)
                assert f"{name}_id" in table.__table__.columns, (kind.name, record.__name__, name)  # type: ignore[attr-defined]
