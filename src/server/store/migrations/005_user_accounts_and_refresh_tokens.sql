-- User accounts (email, last login) and two kinds of tokens: short-lived access tokens and
-- long-lived refresh tokens, both stored only as hashes. Existing tokens stay access tokens.
ALTER TABLE users ADD COLUMN email TEXT;
ALTER TABLE users ADD COLUMN last_login INTEGER;
ALTER TABLE tokens ADD COLUMN kind TEXT NOT NULL DEFAULT 'access';
CREATE INDEX tokens_by_user ON tokens (user_id);
