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
add_test(NAME chat_load COMMAND chat_load load $<TARGET_FILE:chanlab>)
add_test(NAME chat_load_book_stall COMMAND chat_load stall $<TARGET_FILE:chanlab>)
set_tests_properties(chat_load chat_load_book_stall PROPERTIES LABELS load TIMEOUT 90
                     PASS_REGULAR_EXPRESSION "chat_load: (ok|STALL measured)")
