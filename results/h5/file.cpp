#include "results/h5/file.h"

#include <thread>

#include "results/h5/error.h"

namespace ftbench::results::h5 {
namespace {

Handle access_plist(const std::string& context) {
  Handle fapl(check(H5Pcreate(H5P_FILE_ACCESS), context), Kind::kPropList);
  check(H5Pset_libver_bounds(fapl.id(), H5F_LIBVER_V18, H5F_LIBVER_V110), context);
  return fapl;
}

bool mentions(const Error& e, const char* text) { return e.stack().find(text) != std::string::npos; }

// What HDF5 1.10 says when the bytes of a file are not a whole HDF5 file: cut short, overwritten, or not
// HDF5 past its signature. These are the user's file, not a failure of the run: exit 2 (bad input).
bool damaged(const Error& e) {
  for (const char* sign : {"truncated file", "File has been truncated", "bad superblock",
                           "unable to find a valid file signature", "file signature not found",
                           "incorrect metadata checksum", "bad object header", "unable to load superblock",
                           "wrong B-tree signature", "bad heap"}) {
    if (mentions(e, sign)) return true;
  }
  return false;
}

}  // namespace

bool File::is_hdf5(const std::string& path) {
  silence_error_printing();
  return check(H5Fis_hdf5(path.c_str()), path + ": cannot read the file") > 0;
}

File File::create(const std::string& path) {
  silence_error_printing();
  const std::string what = path + ": cannot create HDF5 file";
  Handle fapl = access_plist(what);
  Handle file(check(H5Fcreate(path.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, fapl.id()), what), Kind::kFile);
  return File(std::move(file), path);
}

File File::open(const std::string& path, Access access, std::chrono::milliseconds lock_wait) {
  silence_error_printing();
  const std::string what = path + ": cannot open HDF5 file";
  Handle fapl = access_plist(what);
  const unsigned flags = access == Access::kReadWrite ? H5F_ACC_RDWR : H5F_ACC_RDONLY;
  const auto deadline = std::chrono::steady_clock::now() + lock_wait;
  for (;;) {
    try {
      return File(Handle(check(H5Fopen(path.c_str(), flags, fapl.id()), what), Kind::kFile), path);
    } catch (const Error& e) {
      // ftbench's own files cannot carry this mark (superblock v2, see file.h); a SWMR writer of another
      // program (h5py with libver='latest') left it. Clearing it here, as `h5clear -s` would, could corrupt
      // the file if that writer is still running (perhaps on another node), which ftbench cannot know; the
      // user can, so the message says how.
      if (mentions(e, "already open for write"))
        throw InputError(path + ": HDF5 marks the file as still open for writing (by a SWMR writer such as h5py); "
                         "ftbench does not clear the mark itself, because that writer may still be running. If no "
                         "process is writing it (a killed writer left the mark), run 'h5clear -s " + path +
                         "' and try again");
      if (damaged(e))
        throw InputError(path + ": not a readable HDF5 file (" + e.detail() +
                         "): it is damaged or cut short; restore it from a copy, or choose another file");
      if (!e.lock_failed()) throw;
      if (std::chrono::steady_clock::now() >= deadline)
        throw RuntimeError(path + ": locked by another process (" + e.detail() +
                           "); close the program that has it open (an h5py session, another ftbench run), or on "
                           "NFS/Lustre, where locks fail, set HDF5_USE_FILE_LOCKING=FALSE");
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
}

Group File::root() const {
  const std::string what = path_ + ": cannot open the root group";
  return Group(Handle(check(H5Gopen2(handle_.id(), "/", H5P_DEFAULT), what), Kind::kGroup), path_, "/");
}

void File::flush() { check(H5Fflush(handle_.id(), H5F_SCOPE_GLOBAL), path_ + ": cannot flush"); }

}  // namespace ftbench::results::h5
