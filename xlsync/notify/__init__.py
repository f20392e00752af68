"""Delivery: the daily list to each department head, the handout to every rep, a conflict
to the reps involved, by e-mail (SMTP) and office chat (WeCom, DingTalk, Feishu robots).

See docs/delivery.md. The parts: `model` (typed messages), `compose` (the sentences),
`config` (environment and TOML), `outbox` (`.xlsync/outbox.sqlite`), `channels` (SMTP and
the robots) and `notifier` (what the watcher calls). Import them from their modules: this
package itself loads nothing (the board reads the outbox without the HTTP client).
"""
