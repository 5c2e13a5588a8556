-- Events written in the same transaction as the change they announce, kept until JetStream has
-- acknowledged them: a change is never stored without its event eventually going out.
CREATE TABLE event_outbox (
    seq        bigserial PRIMARY KEY,
    id         text NOT NULL UNIQUE,
    subject    text NOT NULL,
    payload    bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
