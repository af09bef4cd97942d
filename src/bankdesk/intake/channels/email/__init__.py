"""E-mail: the built-in SMTP receiver, IMAP polling of existing mailboxes, replies through SMTP.

parse.py reads a mail, inbox.py puts it on a case (both ways in share it), receiver.py and
imap.py are the two ways in, adapter.py the way out.
"""
