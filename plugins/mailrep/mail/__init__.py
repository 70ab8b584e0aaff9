"""Where messages come from: local files, Maildir, mbox, IMAP, the SMTP->IMAP round-trip
probe, MTA logs, and the credentials they need.

May import the standard library, IMAPClient and ``mailrep.errors``; never argparse or
nagiosplugin.
"""
