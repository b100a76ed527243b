-- A webhook carries a message's values (see the payload migration before this one).
ALTER TABLE callbacks MODIFY body MEDIUMTEXT NOT NULL, MODIFY last_error MEDIUMTEXT NOT NULL;
