"""Telegram channel commands."""
from sqlalchemy import select

from src.db import db_session_factory
from src.models import Channel


async def addchannel_command(update, context):
    username = context.args[0].lstrip("@")
    session = db_session_factory()
    existing = await session.execute(select(Channel).where(Channel.username == username))
    if existing.scalar_one_or_none():
        await update.message.reply_text(f"@{username} is already tracked")
        return
    session.add(Channel(username=username))
    await session.commit()
    await update.message.reply_text(f"Tracking @{username}")


async def channels_command(update, context):
    async with db_session_factory() as session:
        result = await session.execute(select(Channel).order_by(Channel.username))
        names = [f"@{c.username}" for c in result.scalars()]
    await update.message.reply_text("\n".join(names) or "No channels yet")
