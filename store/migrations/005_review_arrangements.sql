-- Who reviews each cycle and when: the expert review day or the peer group meeting.
ALTER TABLE cycle_status
    ADD COLUMN review_lead_email text,
    ADD COLUMN review_starts timestamptz;

-- A cycle's audit trail includes its part of its peer group's stream.
CREATE INDEX events_peer_group_member_idx ON events ((data ->> 'cycle_id')) WHERE stream_id LIKE 'peergroup-%';
