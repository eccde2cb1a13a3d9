"""The reference front-end authorization server: login, consent and the OAuth endpoints.

It is a separate process that reaches Tessera only over HTTP, through `frontend.tessera`.
Read it as the worked example of docs/integrating.md.
"""
