BEGIN TRANSACTION;
CREATE TABLE hosts (
	host TEXT NOT NULL, 
	not_before DATETIME NOT NULL, 
	reason TEXT, 
	PRIMARY KEY (host)
);
CREATE TABLE posts (
	"key" TEXT NOT NULL, 
	source TEXT NOT NULL, 
	category TEXT NOT NULL, 
	title TEXT NOT NULL, 
	link TEXT NOT NULL, 
	published DATETIME NOT NULL, 
	updated DATETIME NOT NULL, 
	content_html TEXT NOT NULL, 
	tags TEXT NOT NULL, 
	slug TEXT NOT NULL, 
	content_hash TEXT NOT NULL, 
	dated BOOLEAN NOT NULL, 
	first_seen DATETIME NOT NULL, 
	revision INTEGER NOT NULL, 
	published_revision INTEGER NOT NULL, canonical_link TEXT NOT NULL DEFAULT '', text_hash TEXT NOT NULL DEFAULT '', raw_hash TEXT NOT NULL DEFAULT '', full_text_tries INTEGER NOT NULL DEFAULT 0, 
	PRIMARY KEY ("key"), 
	UNIQUE (slug)
);
INSERT INTO "posts" VALUES('dab53e4752e3e272df04581dbd557f66','Wire','wire','Wire release 1','https://wire.example.org/releases/release-1.html','2024-04-01 10:00:00.000000','2024-04-01 10:00:00.000000','<p>Text of release 1.</p>','["Wire"]','wire-release-1','05f788adc53d8b80dd644f409e68149df8614e85114dc1deda36723aa1751da3',1,'2026-12-02 01:21:21.036084',1,1,'https://wire.example.org/releases/release-1.html','f9723d262f7d6973926d0365890a9dbc','49669cf4422cf1661c85c8fe1c15c657',0);
INSERT INTO "posts" VALUES('d1cc1f9d386ea28574a4b3badfacdf34','Wire','wire','Wire release 2','https://wire.example.org/releases/release-2.html','2024-04-01 11:00:00.000000','2024-04-01 11:00:00.000000','<p>Text of release 2.</p>','["Wire"]','wire-release-2','5043e44bc636a702c200107ef34c747eb0d8c4047eb4ab592676f241eaf870f5',1,'2026-12-02 01:21:21.036084',1,1,'https://wire.example.org/releases/release-2.html','0549432e2943820148fd03d877596138','b99333903618ad344919b0e39672eeac',0);
INSERT INTO "posts" VALUES('dc93def943f48e0ce2239dab999be3c6','Wire','wire','Wire release 3','https://wire.example.org/releases/release-3.html','2024-04-01 12:00:00.000000','2024-04-01 12:00:00.000000','<p>Text of release 3.</p>','["Wire"]','wire-release-3','77c726ee84234b41e1980f4386a873ab48a9ad0e6897d839316974a2ea8a5a67',1,'2026-12-02 01:21:21.036084',1,1,'https://wire.example.org/releases/release-3.html','cc4f31133bc04cf95d0c2ff4e953abbb','6a5f87ffb12fa572be99ade0ddb3d555',0);
INSERT INTO "posts" VALUES('09e842a9585207e4103cfc36f3ea56d2','Planet One','planet','Alice post 1','https://alice.example.net/2024/04/post-1.html','2024-04-01 20:00:00.000000','2024-04-01 20:00:00.000000','<p>Alice writes about topic 1.</p>','["Planet"]','alice-post-1','02889520279a214ee1dc293879473a437f3914356f695638fde19abf26a0a9d7',1,'2026-12-02 01:21:21.316980',1,1,'https://alice.example.net/2024/04/post-1.html','a9401ceba762a37e23af38163f64a212','a2ad94e3532b9684528bc2c26e60dcee',0);
INSERT INTO "posts" VALUES('02079bdb5752f987f3c8aa2f1648a759','Planet One','planet','Alice post 2','https://alice.example.net/2024/04/post-2.html','2024-04-01 21:00:00.000000','2024-04-01 21:00:00.000000','<p>Alice writes about topic 2.</p>','["Planet"]','alice-post-2','693e1f3e0502d8b472d2f3d8f3619def91bb77260d553718bcd23a5d7481dd04',1,'2026-12-02 01:21:21.316980',1,1,'https://alice.example.net/2024/04/post-2.html','bcdcaff417d7529632ea4e0f12383356','0d46877640a0b2563add4d1224267b3e',0);
INSERT INTO "posts" VALUES('b1d992695fd7ed9b5ac8cb5ac81b6b82','Release notes','releases','Release 2.33','https://notes.example.org/releases.html#v2-33','2024-05-04 09:00:00.000000','2024-05-04 09:00:00.000000','<p>Fixes and changes in 2.33.</p>','["Releases"]','release-2-33','7256ee040086a6940510dc3c78b4a0899cf755f5b78c76d55e1fa95134bc8f7f',1,'2026-12-02 01:21:21.043369',1,1,'https://notes.example.org/releases.html','0d14bd060606a5aaec3f8d94c14ab8a6','0854bc4a2c1926eaa8e31ee85190120d',0);
INSERT INTO "posts" VALUES('649a76b20c2b4359cdc2226dee8ae1dc','Mirror One','mirror','Bob post 1','https://bob.example.net/2024/04/post-1.html','2024-04-01 20:00:00.000000','2024-04-01 20:00:00.000000','<p>Bob writes about topic 1.</p>','["Mirror"]','bob-post-1','d13ebc119b59c45372bf1125c36e5d4d1f3d9f1346391e02cbc7b2921302885a',1,'2026-12-02 01:21:21.323514',1,1,'https://bob.example.net/2024/04/post-1.html','6d09d47934ed6cc869b5390e06451d2d','098ea5b999cd4a600cb39d9b4f26635b',0);
INSERT INTO "posts" VALUES('662d4cfbf5deeea2b2afbb353c9cb15a','Mirror One','mirror','Bob post 2','https://bob.example.net/2024/04/post-2.html','2024-04-01 21:00:00.000000','2024-04-01 21:00:00.000000','<p>Bob writes about topic 2.</p>','["Mirror"]','bob-post-2','65327f3e8bed1c1cc6154e722806efb54c4cf6499d6f9a3745611d3c0141a959',1,'2026-12-02 01:21:21.323514',1,1,'https://bob.example.net/2024/04/post-2.html','b37116aebfdfa3b16086b8e7762fd1e0','8cfc8bc307addfb9f1bef6a47e20f31c',0);
INSERT INTO "posts" VALUES('74314fcdd1ef683809a9ee1ceb6b1926','Sub','sub','Sub entry 1','https://h.example.org/entries/first.html','2024-04-02 06:00:00.000000','2024-04-02 06:00:00.000000','<p><img src="https://h.example.org/entries/img/first.png" alt="first"> <a href="https://h.example.org/entries/first-notes.html" rel="noopener noreferrer">notes</a></p>','["Sub"]','sub-entry-1','3439719d87a6ddc809da6bf6a22162109e038f68446c10b37e104a3f8b1335ef',1,'2026-12-02 01:21:21.396533',1,1,'https://h.example.org/entries/first.html','61cf027b22bdaf66640fbeafe320dc93','b8aebf61a4a698f0ac9b0dce653caafe',0);
INSERT INTO "posts" VALUES('a43a52eb3c497e12b2458ce68d024027','Sub','sub','Sub entry 2','https://h.example.org/entries/second.html','2024-04-02 07:00:00.000000','2024-04-02 07:00:00.000000','<p><img src="https://h.example.org/entries/img/second.png" alt="second"> <a href="https://h.example.org/entries/second-notes.html" rel="noopener noreferrer">notes</a></p>','["Sub"]','sub-entry-2','fc906319dfb64a728e9772b9997da35d7a1500fbd72e4fef7dab62b02ff43683',1,'2026-12-02 01:21:21.396533',1,1,'https://h.example.org/entries/second.html','61cf027b22bdaf66640fbeafe320dc93','ee56fbc0045fa7406087b7ad542023f5',0);
INSERT INTO "posts" VALUES('031b462ebf82c5bd84b65be1b868f9d6','Local','local','Local news 1','https://local.example.com/news/1.html','2024-04-02 16:00:00.000000','2024-04-02 16:00:00.000000','<p>Local story 1.</p>','["Local"]','local-news-1','1439eb643a8932181b16b4a9f12558208e14b8dc43391440914ca4abc58c06e0',1,'2026-12-02 01:21:21.424540',1,1,'https://local.example.com/news/1.html','134a1ab209ccfda92bfcb0404c43d85e','091ae14fb0af1c0e2a81987914e40701',0);
INSERT INTO "posts" VALUES('76c3e6527d952131bc40b89be39ddd18','Local','local','Local news 2','https://local.example.com/news/2.html','2024-04-02 17:00:00.000000','2024-04-02 17:00:00.000000','<p>Local story 2.</p>','["Local"]','local-news-2','0ecc584bb96454114dac63b3756d5ee58e5b8e0f65ebeab548f343912818ab55',1,'2026-12-02 01:21:21.424540',1,1,'https://local.example.com/news/2.html','19007e71d8662411f16c3ddd68bf8e8f','23f238510d4ef5bc6a590a3cae423671',0);
CREATE TABLE schema_version (
	version INTEGER NOT NULL
);
INSERT INTO "schema_version" VALUES(5);
CREATE TABLE sources (
	name TEXT NOT NULL, 
	url TEXT NOT NULL, 
	config_url TEXT NOT NULL, 
	etag TEXT, 
	last_modified TEXT, 
	content_hash TEXT, 
	feed_title TEXT, 
	feed_link TEXT, 
	feed_id TEXT, 
	last_fetched DATETIME, 
	last_success DATETIME, 
	last_status INTEGER, 
	failures INTEGER NOT NULL, 
	last_error TEXT, 
	next_check DATETIME, 
	disabled TEXT, redirect_target TEXT, redirect_count INTEGER NOT NULL DEFAULT 0, feed_ttl_seconds INTEGER, dropped_items INTEGER NOT NULL DEFAULT 0, 
	PRIMARY KEY (name)
);
INSERT INTO "sources" VALUES('Wire','http://127.0.0.1:PORT/wire.xml','http://127.0.0.1:PORT/wire.xml',NULL,NULL,'8e8a807ccc2b8aab6ea9af3fefc82e8e85e7ed7af933611ff1fc86726bef8767','Wire','https://wire.example.org/','https://wire.example.org/','2026-12-02 01:21:21.036084','2026-12-02 01:21:21.036084',200,0,NULL,'2026-12-02 01:52:57.366570',NULL,NULL,0,NULL,0);
INSERT INTO "sources" VALUES('Paper','http://127.0.0.1:PORT/paper.xml','http://127.0.0.1:PORT/paper.xml',NULL,NULL,'adafa88ea68eb76b524766c785e49652ea16eef12a1b844d5aa9ac6b8814bf8e','Paper: wire','https://paper.example.org/','https://paper.example.org/','2026-12-02 01:21:21.316740','2026-12-02 01:21:21.316740',200,0,NULL,'2026-12-02 01:53:09.716462',NULL,NULL,0,NULL,0);
INSERT INTO "sources" VALUES('Planet One','http://127.0.0.1:PORT/planet_one.xml','http://127.0.0.1:PORT/planet_one.xml',NULL,NULL,'6fa3a5db67f80192cff01837e1607236d951d05a3713cd5498e0903b91bdb15d','Planet One','https://planet-one.example.org/','https://planet-one.example.org/','2026-12-02 01:21:21.316980','2026-12-02 01:21:21.316980',200,0,NULL,'2026-12-02 01:51:41.368149',NULL,NULL,0,NULL,0);
INSERT INTO "sources" VALUES('Release notes','http://127.0.0.1:PORT/anchors.xml','http://127.0.0.1:PORT/anchors.xml',NULL,NULL,'ebda8e3bfa0cfa10be2ff2d3fda1be30f388eff0180697faf0d3e94a3367ab74','Release notes','https://notes.example.org/releases.html','https://notes.example.org/releases.html','2026-12-02 01:21:21.043369','2026-12-02 01:21:21.043369',200,0,NULL,'2026-12-02 01:54:08.576658',NULL,NULL,0,NULL,0);
INSERT INTO "sources" VALUES('Mirror One','http://127.0.0.1:PORT/mirror_one.xml','http://127.0.0.1:PORT/mirror_one.xml',NULL,NULL,'d0cc07353e721921436cc2acf09cbe733f53e10374f9cdfe6da40f8c039f11eb','Mirror One','https://mirror-one.example.org/','https://mirror-one.example.org/','2026-12-02 01:21:21.323514','2026-12-02 01:21:21.323514',200,0,NULL,'2026-12-02 01:52:23.096455',NULL,NULL,0,NULL,0);
INSERT INTO "sources" VALUES('Planet Two','http://127.0.0.1:PORT/planet_two.xml','http://127.0.0.1:PORT/planet_two.xml',NULL,NULL,'30988a7be3f0e2cb9fa08cb4e4caa4eeec18639be4ec7c169352b5dea801e742','Planet Two','https://planet-two.example.org/','https://planet-two.example.org/','2026-12-02 01:21:21.341602','2026-12-02 01:21:21.341602',200,0,NULL,'2026-12-02 01:53:21.463886',NULL,NULL,0,NULL,0);
INSERT INTO "sources" VALUES('Mirror Two','http://127.0.0.1:PORT/mirror_two.xml','http://127.0.0.1:PORT/mirror_two.xml',NULL,NULL,'5cd0dcf7902ef4f7974841a9bf1901edf0e08e9bb8b9e4dc298a138c9bfc9d58','Mirror Two','https://mirror-two.example.org/','https://mirror-two.example.org/','2026-12-02 01:21:21.372593','2026-12-02 01:21:21.372593',200,0,NULL,'2026-12-02 01:52:59.995992',NULL,NULL,0,NULL,0);
INSERT INTO "sources" VALUES('Sub','http://127.0.0.1:PORT/sub/feed.xml','http://127.0.0.1:PORT/sub/feed.xml',NULL,NULL,'1691553b54a557e31598fae0c5312d4629c52ea28f4a7a05570f0c192a975cf2','Sub-path feed','https://h.example.org/','https://h.example.org/','2026-12-02 01:21:21.396533','2026-12-02 01:21:21.396533',200,0,NULL,'2026-12-02 01:53:14.478258',NULL,NULL,0,NULL,0);
INSERT INTO "sources" VALUES('Local','http://127.0.0.1:PORT/local.xml','http://127.0.0.1:PORT/local.xml',NULL,NULL,'f59a0e4147ce2713ae7072e8546a0f58b1c0486537fb683f4f07ae0858398d29','Local','https://local.example.com/','https://local.example.com/','2026-12-02 01:21:21.424540','2026-12-02 01:21:21.424540',200,0,NULL,'2026-12-02 01:53:18.476998',NULL,NULL,0,NULL,0);
CREATE TABLE unsettled_slugs (
	"key" TEXT NOT NULL, 
	slug TEXT NOT NULL, 
	base TEXT NOT NULL, 
	published DATETIME NOT NULL, 
	dated BOOLEAN NOT NULL, 
	PRIMARY KEY ("key")
);
CREATE INDEX ix_posts_category_published ON posts (category, published);
CREATE INDEX ix_posts_published ON posts (published);
CREATE INDEX ix_posts_pending ON posts (published) WHERE revision > published_revision;
CREATE INDEX ix_posts_canonical_link ON posts (canonical_link);
CREATE INDEX ix_posts_text_hash ON posts (text_hash);
CREATE INDEX ix_posts_source_raw_hash ON posts (source, raw_hash);
CREATE INDEX ix_posts_category_arrival ON posts (category, first_seen, "key");
CREATE INDEX ix_posts_full_text_tries ON posts (source) WHERE full_text_tries > 0;
COMMIT;
