#pragma once

/// The files a study keeps, and the check that keeps commands from writing over them.

#include <string>

namespace nascent {

/// Refuses `output`, the file a command that reads a study is about to write (`option` names
/// it in the error, "--output"), before anything is written: a directory, which the write could
/// not replace, and any file of the study itself, which the write would destroy. The study's
/// files are those nascent keeps in `study_dir` when it is not empty (study.db and the files
/// SQLite keeps beside it, study.lock, summary.json, model.pt, supernet.pt), and the SQLite file
/// of `storage_url` and the files beside it when it is a sqlite:// URL. Paths are compared by
/// the file they lead to, so a path through a symbolic link, `..` or a hard link is refused as
/// well. Throws nascent::Error with one line naming the option, the path and the study's file.
void check_study_output(const std::string& output, const std::string& option,
                        const std::string& study_dir, const std::string& storage_url = "");

}  // namespace nascent
