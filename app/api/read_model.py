"""The dependency that gives a route its app's read model (see app/readmodel/__init__.py for what it holds)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.readmodel.holder import ReadModelHolder
from app.readmodel.model import ReadModel


def holder_of(request: Request) -> ReadModelHolder:
    holder: ReadModelHolder = request.app.state.read_model
    return holder


async def read_model(request: Request) -> ReadModel:
    """The model this request answers from (taken once; a reload meanwhile does not change it)."""
    return await holder_of(request).get()


ReadModelDep = Annotated[ReadModel, Depends(read_model)]
