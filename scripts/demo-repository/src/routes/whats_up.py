"""Assistant endpoint: what happened recently."""
from fastapi import APIRouter
from sqlalchemy import select

from src.db import async_session
from src.models import Event

router = APIRouter()


@router.get("/api/jarvis/whats-up")
async def whats_up():
    async with async_session() as session:
        rows = await session.execute(select(Event).order_by(Event.created_at.desc()).limit(20))
        return [event.summary for event in rows.scalars()]
