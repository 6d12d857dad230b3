-- Many agents (version 9). The probe kinds an agent announces (tens of KB of JSON, the same for most
-- agents) are kept once per distinct announcement, by its SHA-256, and an agent names the one it
-- made: an agent's row, written at every status and last-seen time, no longer carries them, and the
-- row read at every request to check a credential no longer reads them.
CREATE TABLE IF NOT EXISTS announcement (hash TEXT PRIMARY KEY, kinds TEXT NOT NULL);
ALTER TABLE agent ADD COLUMN IF NOT EXISTS kinds_hash TEXT;
INSERT INTO announcement (hash, kinds) SELECT DISTINCT encode(sha256(convert_to(kinds, 'UTF8')), 'hex'), kinds FROM agent WHERE kinds IS NOT NULL;
UPDATE agent SET kinds_hash = encode(sha256(convert_to(kinds, 'UTF8')), 'hex') WHERE kinds IS NOT NULL;
ALTER TABLE agent DROP COLUMN IF EXISTS kinds;
