-- Every pair descended from one sign-in shares a family, and a rotated refresh token is
-- remembered with its family until it expires: replaying it revokes the whole family
-- (RFC 9700 4.14.2), since either the client or a thief holds a copy.
ALTER TABLE keystores ADD COLUMN family uuid NOT NULL DEFAULT gen_random_uuid();
CREATE INDEX keystores_family ON keystores (family);

CREATE TABLE used_refresh_keys (
    secondary_key text PRIMARY KEY,
    family        uuid NOT NULL,
    expires_at    timestamptz NOT NULL
);
CREATE INDEX used_refresh_keys_expires_at ON used_refresh_keys (expires_at);
