-- Each evaluation looks up the images it replaced: without this index that
-- is a scan of the images table per evaluation.
CREATE INDEX images_replaced_by ON images (replaced_by);
