"""Web chat's public side: the widget's files and the endpoints it calls from other sites.

- visitor.py: who the visitor is — a signed cookie (django.core.signing, salted per channel);
- services.py: what the endpoints write (the visitor's messages and e-mail, into the durable
  webhook store) and read (the visitor's transcript), and the read receipts;
- views.py / urls.py: `/webchat/widget.js`, `/webchat/widget.css` and `/webchat/<public key>/…`,
  with the origin check, rate limits and JSON errors;
- cors.py: which origins may read the answers (django-cors-headers, per channel account).

The adapter (reading stored events, delivering replies) is samphan/channels/adapters/webchat.py.
"""
