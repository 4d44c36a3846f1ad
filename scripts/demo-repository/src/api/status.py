"""Status endpoint polled every 30 seconds by the monitor."""
from datetime import datetime, timedelta, timezone

from fastapi import APIRouter
from sqlalchemy import text

from src.db import get_session

router = APIRouter()


@router.get("/api/status")
async def get_system_status():
    async with get_session() as session:
        flights = await session.scalar(text("SELECT COUNT(*) FROM flights"))
        controllers = await session.scalar(text("SELECT COUNT(*) FROM controllers"))

    ten_minutes_ago = datetime.now(timezone.utc) - timedelta(minutes=10)
    recent_flights = await session.scalar(
        text("SELECT COUNT(*) FROM flights WHERE last_updated >= :cutoff"),
        {"cutoff": ten_minutes_ago},
    )
    return {"flights": flights, "controllers": controllers, "recent_flights": recent_flights}
