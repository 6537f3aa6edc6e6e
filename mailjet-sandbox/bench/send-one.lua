-- One single-message Send API v3.1 call, as wrk sends it (credentials: the sandbox defaults).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Basic c2FuZGJveC1rZXk6c2FuZGJveC1zZWNyZXQ="
wrk.body = '{"Messages":[{"From":{"Email":"tickets@example.com","Name":"Ticketing"},"To":[{"Email":"ada@example.com","Name":"Ada"}],"Subject":"Ticket added to checkout","TextPart":"Hello","HTMLPart":"<p>Hello</p>","CustomID":"bench"}]}'
