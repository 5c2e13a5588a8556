-- Users, their roles, their live token pairs and the API keys clients present.
CREATE TABLE users (
    id              uuid PRIMARY KEY,
    email           text NOT NULL UNIQUE,
    password_hash   text NOT NULL,
    name            text NOT NULL,
    profile_pic_url text,
    verified        boolean NOT NULL DEFAULT false,
    status          boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE roles (
    code       text PRIMARY KEY,
    status     boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO roles (code) VALUES ('LEARNER'), ('AUTHOR'), ('EDITOR'), ('ADMIN')
ON CONFLICT (code) DO NOTHING;

CREATE TABLE user_roles (
    user_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_code text NOT NULL REFERENCES roles (code),
    PRIMARY KEY (user_id, role_code)
);

-- One row per live token pair; deleting it revokes both tokens at once.
CREATE TABLE keystores (
    id            uuid PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    primary_key   text NOT NULL UNIQUE,
    secondary_key text NOT NULL UNIQUE,
    expires_at    timestamptz NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX keystores_user_id ON keystores (user_id);

-- Only the SHA-256 of a key is stored; the plaintext is shown once at creation.
CREATE TABLE api_keys (
    id          uuid PRIMARY KEY,
    key_hash    text NOT NULL UNIQUE,
    permissions text[] NOT NULL DEFAULT ARRAY['GENERAL'],
    comments    text NOT NULL DEFAULT '',
    status      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
