# store: call records — SQLite/PostgreSQL backends, the writer thread,
# records from the bus, read queries and analytics, REST and admin ops.

SB_STORE_SOURCES = \
	plugins/switchboard/store/store_private.h \
	plugins/switchboard/store/store.c plugins/switchboard/store/store.h \
 plugins/switchboard/store/schema.c \
	plugins/switchboard/store/store_sqlite.c plugins/switchboard/store/store_pg.c \
	plugins/switchboard/store/records.c \
	plugins/switchboard/store/queries.c \
	plugins/switchboard/store/sip_objects.c

plugins_switchboard_libjanus_switchboard_la_SOURCES += $(SB_STORE_SOURCES) \
	plugins/switchboard/store/api.c plugins/switchboard/store/accounts.c
plugins_switchboard_libjanus_switchboard_la_CPPFLAGS += $(SQLITE_CFLAGS) $(PQ_CFLAGS)
plugins_switchboard_libjanus_switchboard_la_LIBADD += $(SQLITE_LIBS) $(PQ_LIBS)

# The same suite on SQLite, and on PostgreSQL when SB_TEST_PG_CONNINFO is
# set (tests/integration/store-postgres.test.mjs runs it so).
check_PROGRAMS += tests/unit/test_store
tests_unit_test_store_SOURCES = tests/unit/test_store.c tests/unit/janus_log_stub.c $(SB_STORE_SOURCES) \
	plugins/switchboard/core/events.c
tests_unit_test_store_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS) $(JANUS_CPPFLAGS) $(JANSSON_CFLAGS) \
	$(SQLITE_CFLAGS) $(PQ_CFLAGS)
tests_unit_test_store_LDADD = $(SB_TEST_LIBS) $(JANSSON_LIBS) $(SQLITE_LIBS) $(PQ_LIBS)
