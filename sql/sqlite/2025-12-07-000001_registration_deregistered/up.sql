-- When the number was deregistered through the Cloud API (`POST /{phone-number-id}/deregister`),
-- NULL while it is registered: the coreapp keeps the credentials but stops using them until
-- `POST /{phone-number-id}/register`. A new registration always starts registered.
ALTER TABLE registration ADD COLUMN deregistered_at BIGINT NULL;
