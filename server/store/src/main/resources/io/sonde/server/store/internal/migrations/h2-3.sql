-- Definitions (version 3): what the operator keeps on the server for the agents, targets by tag
-- and meshes, each as the JSON text the server checked before storing it. type: target or mesh.
CREATE TABLE IF NOT EXISTS definition (type VARCHAR(16) NOT NULL, name VARCHAR(200) NOT NULL,
    body VARCHAR(1048576) NOT NULL, updated_at BIGINT NOT NULL, PRIMARY KEY (type, name));
-- the address an agent last reached the server from: where its mesh peers probe it
ALTER TABLE agent ADD COLUMN IF NOT EXISTS address VARCHAR(100);
