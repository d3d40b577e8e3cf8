# tests/catalog_chat.cmake — the §8.10 family, chat: the catalog's variants
# and bad input over the wire against `chanlab demo chat` (label catalog),
# and the load test (label load, bounded to 60 s by its own deadlines):
# chat_load drives hundreds of loopback clients from one thread over poll.
add_executable(test_catalog_chat test_catalog_chat.c)
target_link_libraries(test_catalog_chat PRIVATE catalog_util patterns)
add_test(NAME catalog_chat COMMAND test_catalog_chat $<TARGET_FILE:chanlab>)
set_tests_properties(catalog_chat PROPERTIES LABELS catalog TIMEOUT 300
                     FAIL_REGULAR_EXPRESSION "WARNING: ThreadSanitizer")

add_executable(chat_load chat_load.c)
if(CMAKE_C_FLAGS MATCHES "sanitize=thread")
  # Under ThreadSanitizer the server is 3-4x slower: the same 201 clients with
  # 1,000 lines instead of 3,000 (too few to fill the buffers of the client
  # that never reads, which stays connected), and no stall run (the 6 MB it
  # needs take too long there).
  add_test(NAME chat_load COMMAND chat_load load $<TARGET_FILE:chanlab> 1000)
  set_tests_properties(chat_load PROPERTIES LABELS load TIMEOUT 90
                       PASS_REGULAR_EXPRESSION "chat_load: ok"
                       FAIL_REGULAR_EXPRESSION "WARNING: ThreadSanitizer")
else()
  add_test(NAME chat_load COMMAND chat_load load $<TARGET_FILE:chanlab>)
  add_test(NAME chat_load_book_stall COMMAND chat_load stall $<TARGET_FILE:chanlab>)
  set_tests_properties(chat_load chat_load_book_stall PROPERTIES LABELS load TIMEOUT 90
                       PASS_REGULAR_EXPRESSION "chat_load: (ok|STALL measured)")
endif()

# chat_conn: the conns and the line scanner, over pipes (controlled) and
# loopback TCP (free) (label unit).
add_executable(test_chat_conn test_chat_conn.c)
target_link_libraries(test_chat_conn PRIVATE patterns PkgConfig::CMOCKA)
add_test(NAME chat_conn COMMAND test_chat_conn)
set_tests_properties(chat_conn PROPERTIES LABELS unit TIMEOUT 120
                     FAIL_REGULAR_EXPRESSION "WARNING: ThreadSanitizer")
