# Included by CTest after cloud_app_test's discovered tests (see
# CMakeLists.txt): the end-to-end tests that run lplex-cloud and lplex-server
# as child processes for many seconds are labelled `slow`; the sanitizer
# runs skip them (ctest -LE slow).
foreach(t CloudEndToEnd.BoatToCloudAcrossCloudRestartArchivesEveryFileAndKeepsBoatBytes)
  set_tests_properties(${t} PROPERTIES LABELS slow)
endforeach()
# The chaos test (tests/cloud_app/cloud_chaos_test.cc): about two minutes of
# proxy drops and restarts of both binaries.
set_tests_properties(CloudChaos.ProxyDropsAndRestartsLeaveEveryBoatSeqAtTheCloudExactlyOnce PROPERTIES LABELS slow)
foreach(t CloudSeedScenario.MtlsBoatToCloudAcrossSigtermArchivesEveryFileToS3ByteIdentical)
  set_tests_properties(${t} PROPERTIES LABELS slow)
endforeach()
