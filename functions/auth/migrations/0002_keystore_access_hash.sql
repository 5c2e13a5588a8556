-- The SHA-256 of a pair's access token keys its cached identity in Redis, so revoking a pair
-- (or all of a user's) can drop those entries without the token in hand.
ALTER TABLE keystores ADD COLUMN access_hash text NOT NULL DEFAULT '';
