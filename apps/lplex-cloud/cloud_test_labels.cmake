# Included by CTest after cloud_app_test's discovered tests (see
# CMakeLists.txt): the end-to-end tests that run lplex-cloud and lplex-server
# as child processes for many seconds are labelled `slow`; the sanitizer
# runs skip them (ctest -LE slow).
foreach(t CloudEndToEnd.BoatToCloudAcrossCloudRestartArchivesEveryFileAndKeepsBoatBytes)
  set_tests_properties(${t} PROPERTIES LABELS slow)
endforeach()
