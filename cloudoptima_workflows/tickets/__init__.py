"""Tickets (#22): the scheduled sync of every organisation's tracker tickets (``SyncTickets``)."""
