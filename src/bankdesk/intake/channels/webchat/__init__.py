"""Live web chat: the embeddable widget, its WebSocket protocol and the way replies reach it.

The customer's browser talks JSON frames over `/ws/chat/` (see `consumers.py`); a message
becomes an `InboundMessage` like any channel's; a staff reply leaves through the outbox and
`WebChatAdapter` tells the chat session it has something new to read.
"""
