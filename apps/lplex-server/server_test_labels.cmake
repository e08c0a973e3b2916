# Included by CTest after server_test's discovered tests (see CMakeLists.txt):
# the end-to-end tests that start lplex-server as a child process and wait
# for real rotations are labelled `slow`; the sanitizer runs skip them
# (ctest -LE slow).
foreach(t ServerEndToEnd.SigtermFinalizesJournalAndArchivesEveryFile
          ServerEndToEnd.SigtermArchivesEveryFileToS3ByteIdentical
          ServerEndToEnd.SecondSignalDuringShutdownExitsAtOnce
          ServerCrash.KillNineNeverReusesSeqs
          ServerEndToEnd.DelayedReplayServesEveryCaptureFrameOverSseAndJournalsItsBytes)
  set_tests_properties(${t} PROPERTIES LABELS slow)
endforeach()
# A cloud in-process: gRPC, which TSan cannot see into (tests/CMakeLists.txt).
set_tests_properties(BoatToCloud.SimBoatReplicatesLiveFramesThatTheCloudJournalsSeqForSeq PROPERTIES LABELS grpc)
